import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

const rec = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  version: 1,
  event_time: '2026-03-01T10:00:00Z',
  text: `corpus record ${id}`,
  ...extra,
});
const line = (r: unknown): string => JSON.stringify(r);

interface Status {
  records: {
    read: number;
    landed: number;
    quarantined: number;
    withheld: number;
    bronze: number;
    quarantineByCode: Record<string, number>;
  };
  files: {
    verified: number;
    unverified: number;
    incomplete: number;
    waiting: number;
    completenessGap: number;
    waitingList: { rel: string; reason: string; detail: string }[];
    list: {
      path: string;
      state: string;
      detail: string | null;
      read: number;
      landed: number;
      quarantined: number;
      withheld: number;
    }[];
  };
}

describe('bad-input corpus through ingest --once (subprocess): every record accounted for, never a crash', () => {
  let ws: Workspace;
  let status: Status;
  let ingestCode: number | null;

  before(async () => {
    ws = workspace({ landing: { maxLineBytes: 10 * 1024 * 1024 }, contract: { metadata: { n: 'integer' } } });
    const bad = [
      '\uFEFF' + line(rec('ok-1')),
      '{"id": "broken"',
      line(rec('wt', { text: ['not', 'a', 'string'] })),
      line({ version: 1, event_time: '2026-03-01T10:00:00Z', text: 'no id' }),
      line(rec('   ')),
      line(rec('zl', { event_time: '2026-03-01 10:00:00' })),
      '{"id":"pp","version":1,"event_time":"2026-03-01T10:00:00Z","text":"x","__proto__":{"polluted":1}}',
      `{"id":"deep","version":1,"event_time":"2026-03-01T10:00:00Z","text":"x","n":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
      line(rec('huge', { text: 'z'.repeat(10 * 1024 * 1024 + 1) })),
      '',
      line(rec('ok-2')),
      line(rec('dup', { version: 1, text: 'first version of dup' })),
      line(rec('dup', { version: 2, text: 'second version of dup' })),
    ].join('\r\n');
    ws.drop(
      'bad.jsonl',
      Buffer.concat([
        Buffer.from(bad + '\r\n'),
        Buffer.from([0xc3, 0x28, 0x0a]),
        Buffer.from(line(rec('ok-3')) + '\n'),
      ]),
    );
    ws.drop('empty.jsonl', '');
    ws.drop('blank.jsonl', '\n \n\r\n');
    const gz = gzipSync(Array.from({ length: 500 }, (_, i) => line(rec(`tr-${i}`))).join('\n') + '\n');
    ws.drop('trunc.jsonl.gz', gz.subarray(0, gz.length - 300));
    ws.drop('fine.jsonl.gz', gzipSync(line(rec('gz-ok')) + '\n'));
    ws.drop(
      'table.csv',
      'id,version,event_time,text,n\nc-1,1,2026-03-01T10:00:00Z,"csv, with ""quotes""\nand a newline",7\nc-2,1,2026-03-01T10:00:00Z,bad int,seven\n',
    );
    ws.drop('w.jsonl', line(rec('waiting-1')) + '\n');
    ws.drop('w.manifest.json', '{ not json');
    const r = await runCli(['ingest', '--once', '--json'], ws.env());
    ingestCode = r.code;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    status = await runJson<Status>(['status'], ws.env());
  });
  after(() => ws.cleanup());

  it('the process exits 0', () => assert.equal(ingestCode, 0));

  it('read = landed + quarantined for every published file, and + withheld in total', () => {
    for (const f of status.files.list) {
      if (f.state === 'verified' || f.state === 'unverified')
        assert.equal(f.read, f.landed + f.quarantined, f.path);
      assert.equal(f.read, f.landed + f.quarantined + f.withheld, f.path);
    }
    const r = status.records;
    assert.equal(r.read, r.landed + r.quarantined + r.withheld);
    assert.equal(r.bronze, r.landed);
  });

  it('each bad record has its specific code', () => {
    const bad = status.files.list.find((f) => f.path === 'bad.jsonl')!;
    assert.deepEqual([bad.read, bad.landed, bad.quarantined], [14, 5, 9]);
    assert.deepEqual(status.records.quarantineByCode, {
      EMPTY_ID: 1,
      FORBIDDEN_KEY: 1,
      INVALID_UTF8: 1,
      LINE_TOO_LONG: 1,
      MALFORMED_JSON: 1,
      MISSING_FIELD: 1,
      TOO_DEEP: 1,
      TRUNCATED_INPUT: 1,
      WRONG_TYPE: 2,
      ZONELESS_TIMESTAMP: 1,
    });
  });

  it('the truncated gzip is incomplete (nothing published), the invalid manifest waits; both are visible', () => {
    const t = status.files.list.find((f) => f.path === 'trunc.jsonl.gz')!;
    assert.equal(t.state, 'incomplete');
    assert.match(t.detail!, /^TRUNCATED_INPUT/);
    assert.equal(status.files.incomplete, 1);
    assert.deepEqual(
      status.files.waitingList.map((w) => [w.rel, w.reason]),
      [['w.jsonl', 'manifest-invalid']],
    );
    assert.equal(status.files.waiting, 1);
    assert.equal(status.files.completenessGap, status.files.unverified);
  });

  it('good records are searchable, the latest version of a duplicate id wins, bad ones are not', async () => {
    const rows = await servingRows(ws.data);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of ['ok-1', 'ok-2', 'ok-3', 'gz-ok', 'c-1', 'dup']) assert.ok(byId.has(id), id);
    assert.equal(byId.get('dup')!.sourceVersion, 2);
    assert.equal(byId.get('c-1')!.text, 'csv, with "quotes"\nand a newline');
    for (const id of ['broken', 'wt', 'zl', 'pp', 'deep', 'huge', 'c-2', 'tr-0', 'waiting-1'])
      assert.ok(!byId.has(id), id);
    assert.equal(rows.length, 6);
  });
});
