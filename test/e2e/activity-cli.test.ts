import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonl, runCli, runJson, workspace, type Workspace } from '../helpers/cli.js';

interface QEntry {
  qId: number;
  file: string;
  line: number;
  code: string;
  field: string | null;
  reason: string;
  excerpt: string;
  truncated: boolean;
  rawChars: number;
}

const good = (id: string, text: string) => ({ id, version: 1, event_time: '2024-05-01T10:00:00Z', text });

describe('quarantine / files / batches on a real database (subprocess CLI)', () => {
  let ws: Workspace;
  before(async () => {
    ws = workspace();
    // a.jsonl: 3 good, a record with no zone (line 2), malformed JSON with a terminal escape (line 4).
    ws.drop(
      'a.jsonl',
      [
        JSON.stringify(good('a1', 'rivers and mountains')),
        JSON.stringify({ id: 'a2', version: 1, event_time: '2024-05-01T10:00:00', text: 'no zone' }),
        JSON.stringify(good('a3', 'cats and dogs')),
        '{"id": "a4", "text": "\u001b[31mred\u202e', // raw ESC + bidi override, unterminated
        JSON.stringify(good('a5', 'owls at night')),
      ].join('\n') + '\n',
    );
    // b.jsonl: a very long malformed line and one good record.
    ws.drop('b.jsonl', `{"id": "b1", ${'x'.repeat(5000)}\n${jsonl([good('b2', 'forest fires')])}`);
    await runJson(['ingest', '--once'], ws.env());
  });
  after(() => ws.cleanup());

  it('quarantine lists file, line, code, reason and an escaped, bounded excerpt; filters narrow it', async () => {
    const all = await runJson<{ total: number; entries: QEntry[] }>(['quarantine'], ws.env());
    assert.equal(all.total, 3);
    const byLine = (f: string, l: number) => all.entries.find((e) => e.file.endsWith(f) && e.line === l);
    const zone = byLine('a.jsonl', 2);
    assert.ok(zone, JSON.stringify(all.entries));
    assert.equal(zone.code, 'ZONELESS_TIMESTAMP');
    assert.match(zone.reason, /no time zone/);
    const esc = byLine('a.jsonl', 4)!;
    assert.equal(esc.code, 'MALFORMED_JSON');
    assert.ok(
      !esc.excerpt.includes('\u001b') && !esc.excerpt.includes('\u202e'),
      'control and bidi characters are escaped',
    );
    assert.match(esc.excerpt, /\\u\{1B\}\[31mred\\u\{202E\}/);
    const long = byLine('b.jsonl', 1)!;
    assert.equal(long.truncated, true);
    assert.ok(long.excerpt.length <= 200, `excerpt bounded (${long.excerpt.length})`);
    assert.ok(long.rawChars > 200, `raw kept longer than the excerpt (${long.rawChars})`);

    const onlyB = await runJson<{ total: number; entries: QEntry[] }>(
      ['quarantine', '--file', 'b.jsonl'],
      ws.env(),
    );
    assert.deepEqual(
      onlyB.entries.map((e) => e.line),
      [1],
    );
    const byCode = await runJson<{ total: number }>(['quarantine', '--code', 'MALFORMED_JSON'], ws.env());
    assert.equal(byCode.total, 2);
    const limited = await runJson<{ total: number; entries: QEntry[] }>(
      ['quarantine', '--limit', '1'],
      ws.env(),
    );
    assert.equal(limited.total, 3);
    assert.equal(limited.entries.length, 1);
    const future = await runJson<{ total: number }>(
      ['quarantine', '--since', '2999-01-01T00:00:00Z'],
      ws.env(),
    );
    assert.equal(future.total, 0);
    const recent = await runJson<{ total: number }>(['quarantine', '--since', '1h'], ws.env());
    assert.equal(recent.total, 3);

    const human = await runCli(['quarantine', '--code', 'ZONELESS_TIMESTAMP'], ws.env());
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /a\.jsonl:2\s+ZONELESS_TIMESTAMP/);
    assert.match(human.stdout, /1 of 1 shown/);
  });

  it('usage errors name the flag', async () => {
    const r = await runCli(['quarantine', '--since', 'yesterday'], ws.env());
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--since "yesterday"/);
    const l = await runCli(['files', '--limit', '0'], ws.env());
    assert.equal(l.code, 2);
    assert.match(l.stderr, /--limit expects a positive integer, got '0'/);
    const s = await runCli(['batches', '--state', 'weird'], ws.env());
    assert.equal(s.code, 2);
    assert.match(s.stderr, /--state expects one of planned, committed, failed, got 'weird'/);
  });

  it('files shows states, counts and that every landed record is published', async () => {
    const { files } = await runJson<{
      files: {
        path: string;
        state: string;
        read: number;
        landed: number;
        quarantined: number;
        published: number;
        landToSearchableMs: number | null;
      }[];
    }>(['files'], ws.env());
    assert.equal(files.length, 2);
    const a = files.find((f) => f.path.endsWith('a.jsonl'))!;
    assert.deepEqual([a.state, a.read, a.landed, a.quarantined, a.published], ['unverified', 5, 3, 2, 3]);
    assert.ok(a.landToSearchableMs !== null && a.landToSearchableMs >= 0);
    const human = await runCli(['files', '--limit', '1'], ws.env());
    assert.equal(human.stdout.trim().split('\n').length, 2, human.stdout);
  });

  it('batches shows committed batches with counts, duration and a lane column', async () => {
    const { batches } = await runJson<{
      batches: {
        state: string;
        records: number;
        durationMs: number | null;
        lane: string | null;
        table: string;
      }[];
    }>(['batches'], ws.env());
    assert.ok(batches.length >= 1);
    assert.ok(batches.every((b) => b.state === 'committed' && b.durationMs !== null));
    assert.equal(
      batches.reduce((n, b) => n + b.records, 0),
      4,
    );
    assert.ok(batches.every((b) => 'lane' in b));
    const human = await runCli(['batches'], ws.env());
    assert.match(human.stdout, /BATCH\s+TABLE\s+STATE\s+LANE/);
  });

  it('an empty data folder lists nothing and exits 0', async () => {
    const empty = workspace();
    try {
      assert.deepEqual(await runJson(['quarantine'], empty.env()), { total: 0, entries: [] });
      assert.deepEqual(await runJson(['files'], empty.env()), { files: [] });
      assert.deepEqual(await runJson(['batches'], empty.env()), { batches: [] });
    } finally {
      empty.cleanup();
    }
  });
});
