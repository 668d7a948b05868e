import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
  readdirSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { BronzeSql, SqliteBronze } from '../../../src/store/sqlite/bronze.js';
import { ContractSchema } from '../../../src/config/schema.js';
import { buildContract } from '../../../src/contract/contract.js';
import { openSqlite, type Sqlite } from '../../../src/store/sqlite/db.js';
import { Loader } from '../../../src/landing/loader.js';
import { LandingService } from '../../../src/landing/service.js';
import { scanLanding } from '../../../src/landing/scan.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { systemClock } from '../../../src/ports/clock.js';

interface Stack {
  dir: string;
  landing: string;
  db: Sqlite;
  bronze: SqliteBronze;
  loader: Loader;
  service: LandingService;
  clock: { t: number; nowMs(): number };
  logs: Record<string, unknown>[];
  close(): void;
}

function stack(
  opts: {
    afterLanding?: 'archive' | 'delete' | 'keep';
    requireManifest?: boolean;
    stableWindowMs?: number;
    maxLineBytes?: number;
    contract?: Record<string, unknown>;
  } = {},
): Stack {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-landing-'));
  const landing = path.join(dir, 'landing');
  mkdirSync(landing);
  const db = openSqlite(path.join(dir, 'data', 'seamline.db'), {
    synchronous: 'NORMAL',
    busyTimeoutMs: 1000,
  });
  const bronze = new SqliteBronze(new BronzeSql(db));
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) },
  );
  const clock = {
    t: 1_700_000_000_000,
    nowMs(): number {
      return this.t;
    },
    sleep: systemClock.sleep,
  };
  const contract = buildContract(
    ContractSchema.parse({ metadata: { n: 'integer', ok: 'boolean' }, ...opts.contract }),
  );
  const loader = new Loader(
    { bronze, contract, clock, logger, fault: noFaults },
    {
      maxLineBytes: opts.maxLineBytes ?? 10 * 1024 * 1024,
      quarantineRawBytes: 256,
      afterLanding: opts.afterLanding ?? 'archive',
      archiveDir: path.join(dir, 'data', 'archive'),
    },
  );
  const service = new LandingService(
    landing,
    ['jsonl', 'jsonl.gz', 'csv'],
    { stableWindowMs: opts.stableWindowMs ?? 0, requireManifest: opts.requireManifest ?? false },
    loader,
    clock,
    logger,
  );
  return {
    dir,
    landing,
    db,
    bronze,
    loader,
    service,
    clock,
    logs,
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const rec = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  version: 1,
  event_time: '2024-01-01T00:00:00Z',
  text: `text of ${id}`,
  ...extra,
});
const jl = (rs: unknown[], eol = '\n'): string => rs.map((r) => JSON.stringify(r)).join(eol) + eol;
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

function put(s: Stack, name: string, content: string | Buffer): string {
  const p = path.join(s.landing, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(`${p}.tmp`, content);
  renameSync(`${p}.tmp`, p);
  return p;
}

const fileByPath = async (s: Stack, rel: string) => (await s.bronze.files()).filter((f) => f.path === rel);
const bronzeIds = (s: Stack): string[] =>
  (s.db.prepare('SELECT record_id FROM bronze ORDER BY seq').all() as { record_id: string }[]).map(
    (r) => r.record_id,
  );
const codes = async (s: Stack, fileId: number): Promise<string[]> =>
  (await s.bronze.quarantineFor(fileId)).map((q) => q.code);

describe('loader: bad-input corpus on a real disk and a real SQLite', () => {
  let s: Stack;
  before(async () => {
    s = stack({ maxLineBytes: 10 * 1024 * 1024 });
    const nested = `{"id":"deep","version":1,"event_time":"2024-01-01T00:00:00Z","text":"t","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const huge = JSON.stringify(rec('huge', { text: 'y'.repeat(10 * 1024 * 1024 + 10) }));
    const badLines = [
      '\uFEFF' + JSON.stringify(rec('g1')),
      '{"id": "broken", ',
      JSON.stringify(rec('wrongtype', { text: 5 })),
      JSON.stringify({ version: 1, event_time: '2024-01-01T00:00:00Z', text: 'no id' }),
      JSON.stringify(rec('')),
      JSON.stringify(rec('zoneless', { event_time: '2024-01-01T00:00:00' })),
      '{"id":"proto","version":1,"event_time":"2024-01-01T00:00:00Z","text":"t","__proto__":{"polluted":"yes"}}',
      '{"id":"ctor","version":1,"event_time":"2024-01-01T00:00:00Z","text":"t","constructor":{"prototype":{"polluted":"yes"}}}',
      nested,
      '',
      '   ',
      huge,
      JSON.stringify(rec('g2')),
    ];
    const bad = Buffer.concat([
      Buffer.from(badLines.join('\r\n') + '\r\n'),
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0d, 0x0a]),
      Buffer.from(JSON.stringify(rec('g3')) + '\n'),
    ]);
    put(s, 'bad.jsonl', bad);
    put(s, 'dups.jsonl', jl([rec('d', { version: 1 }), rec('d', { version: 2 }), rec('d', { version: 1 })]));
    put(s, 'empty.jsonl', '');
    put(
      s,
      'drift.jsonl',
      jl([rec('dr1', { color: 'red' }), rec('dr2', { color: 'blue', size: 3 }), rec('dr3', { size: 4 })]),
    );
    put(s, 'blank.jsonl', '\n\n  \r\n\t\n');
    put(s, 'good.jsonl.gz', gzipSync(jl([rec('gz1'), rec('gz2')])));
    const full = gzipSync(
      jl(
        Array.from({ length: 2000 }, (_, i) =>
          rec(`t${i}`, { text: `record number ${i} ${'pad '.repeat(20)}` }),
        ),
      ),
    );
    put(s, 'trunc.jsonl.gz', full.subarray(0, Math.floor(full.length * 0.6)));
    put(s, 'corrupt.jsonl.gz', Buffer.concat([full.subarray(0, 20), Buffer.alloc(200, 0x41)]));
    put(
      s,
      'data.csv',
      '\uFEFFid,version,event_time,text,n,ok\r\n' +
        'c1,1,2024-01-01T00:00:00Z,"hello, ""world""\r\nsecond line",5,true\r\n' +
        'c2,1,2024-01-01T00:00:00Z,plain,x5,true\r\n' +
        'c3,1,2024-01-01T00:00:00,zoneless,1,false\r\n' +
        'c4,1,2024-01-01T00:00:00Z,too,many,fields,here\r\n' +
        '\r\n' +
        'c5,2,2024-01-01T00:00:00Z,ok,,FALSE\r\n',
    );
    put(
      s,
      'proto.csv',
      'id,version,event_time,text,__proto__\np1,1,2024-01-01T00:00:00Z,t,"{""polluted"":""yes""}"\n',
    );
    await s.service.tick();
  });
  after(() => s.close());

  it('read = landed + quarantined for every published file; nothing is left landing', async () => {
    const files = await s.bronze.files();
    assert.ok(files.length >= 9, JSON.stringify(files.map((f) => f.path)));
    for (const f of files) {
      assert.notEqual(f.state, 'landing');
      if (f.state === 'verified' || f.state === 'unverified')
        assert.equal(f.recordsRead, f.recordsLanded + f.recordsQuarantined, f.path);
    }
    const bronzeCount = (s.db.prepare('SELECT COUNT(*) AS n FROM bronze').get() as { n: number }).n;
    assert.equal(
      bronzeCount,
      files.reduce((a, f) => a + f.recordsLanded, 0),
    );
  });

  it('each bad JSONL record is quarantined with a specific code naming file, line and field; good ones land', async () => {
    const [f] = await fileByPath(s, 'bad.jsonl');
    assert.ok(f);
    assert.equal(f.state, 'unverified');
    assert.deepEqual(await codes(s, f.fileId), [
      'MALFORMED_JSON',
      'WRONG_TYPE',
      'MISSING_FIELD',
      'EMPTY_ID',
      'ZONELESS_TIMESTAMP',
      'FORBIDDEN_KEY',
      'FORBIDDEN_KEY',
      'TOO_DEEP',
      'LINE_TOO_LONG',
      'INVALID_UTF8',
    ]);
    assert.equal(f.recordsLanded, 3);
    assert.equal(f.recordsRead, 13);
    const q = await s.bronze.quarantineFor(f.fileId);
    const zl = q.find((x) => x.code === 'ZONELESS_TIMESTAMP')!;
    assert.equal(zl.line, 6);
    assert.equal(zl.field, 'event_time');
    assert.match(zl.message, /^bad\.jsonl:6 field "event_time": /);
    const big = q.find((x) => x.code === 'LINE_TOO_LONG')!;
    assert.equal(big.line, 12);
    assert.ok(big.raw.length <= 256 && big.raw.startsWith('{"id":"huge"'));
    for (const id of ['g1', 'g2', 'g3']) assert.ok(bronzeIds(s).includes(id), id);
  });

  it('a field not in the contract is schema drift: logged and recorded once per file', async () => {
    const [f] = await fileByPath(s, 'data.csv');
    assert.deepEqual(f!.newFields, []);
    const [b] = await fileByPath(s, 'bad.jsonl');
    assert.deepEqual(
      b!.newFields,
      [],
      'the field "x" of the quarantined TOO_DEEP line does not count: only valid records do',
    );
    const [d] = await fileByPath(s, 'drift.jsonl');
    assert.deepEqual(d!.newFields, ['color', 'size']);
    assert.equal(s.logs.filter((l) => l.event === 'schema.drift' && l.file === 'drift.jsonl').length, 1);
  });

  it('a __proto__ / constructor key never changes a prototype', async () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    const [p] = await fileByPath(s, 'proto.csv');
    assert.deepEqual(await codes(s, p!.fileId), ['FORBIDDEN_KEY']);
  });

  it('duplicate ids inside one file all land (the processor picks the winner)', async () => {
    const [f] = await fileByPath(s, 'dups.jsonl');
    assert.equal(f!.recordsLanded, 3);
    assert.deepEqual(
      bronzeIds(s).filter((i) => i === 'd'),
      ['d', 'd', 'd'],
    );
  });

  it('an empty file and a file of blank lines land with zero records', async () => {
    for (const p of ['empty.jsonl', 'blank.jsonl']) {
      const [f] = await fileByPath(s, p);
      assert.ok(f, p);
      assert.equal(f.state, 'unverified');
      assert.equal(f.recordsRead, 0);
    }
  });

  it('a truncated gzip is incomplete: specific reason, the good records before the cut counted but withheld', async () => {
    const [t] = await fileByPath(s, 'trunc.jsonl.gz');
    assert.equal(t!.state, 'incomplete');
    assert.match(t!.detail!, /^TRUNCATED_INPUT: the gzip stream ends early/);
    assert.deepEqual(await codes(s, t!.fileId), ['TRUNCATED_INPUT']);
    assert.ok(t!.recordsRead > 100 && t!.recordsRead < 2000, String(t!.recordsRead));
    assert.equal(t!.recordsQuarantined, 1);
    assert.equal(t!.recordsLanded, 0, 'nothing from an incomplete file is published');
    assert.ok(!bronzeIds(s).some((i) => i.startsWith('t')), 'no truncated-file record is in bronze');
    const [c] = await fileByPath(s, 'corrupt.jsonl.gz');
    assert.equal(c!.state, 'incomplete');
    assert.match(c!.detail!, /^(CORRUPT|TRUNCATED)_INPUT/);
    const [g] = await fileByPath(s, 'good.jsonl.gz');
    assert.equal(g!.recordsLanded, 2);
    assert.equal((await s.bronze.totals()).withheld, t!.recordsRead - 1);
  });

  it('CSV: quoted newlines and doubled quotes land; wrong types, zone-less times and bad rows are quarantined', async () => {
    const [f] = await fileByPath(s, 'data.csv');
    assert.deepEqual(await codes(s, f!.fileId), ['WRONG_TYPE', 'ZONELESS_TIMESTAMP', 'CSV_MALFORMED']);
    assert.equal(f!.recordsRead, 5);
    assert.equal(f!.recordsLanded, 2);
    const row = s.db.prepare(`SELECT text, metadata_json, line FROM bronze WHERE record_id = 'c1'`).get() as {
      text: string;
      metadata_json: string;
      line: number;
    };
    assert.equal(row.text, 'hello, "world"\r\nsecond line');
    assert.deepEqual(JSON.parse(row.metadata_json), { n: 5, ok: true });
    assert.equal(row.line, 2);
    const c5 = s.db.prepare(`SELECT metadata_json, line FROM bronze WHERE record_id = 'c5'`).get() as {
      metadata_json: string;
      line: number;
    };
    assert.deepEqual(JSON.parse(c5.metadata_json), { n: null, ok: false });
    assert.equal(c5.line, 8);
  });

  it('incomplete files stay in place and are not re-read on later passes; landed files are archived', async () => {
    const again = await s.service.tick();
    assert.deepEqual(again.landed, []);
    assert.equal(again.unchanged, 2, 'the two incomplete gzip files are recognised by path+size+mtime');
    assert.ok(existsSync(path.join(s.landing, 'trunc.jsonl.gz')));
    assert.ok(!existsSync(path.join(s.landing, 'bad.jsonl')));
    const day = readdirSync(path.join(s.dir, 'data', 'archive'));
    assert.equal(day.length, 1);
  });
});

describe('loader: manifests, versions, duplicates, ignored names, symlinks', () => {
  it('manifest says 100 records, file holds 99 → incomplete, nothing published; fixing the file lands it (verified)', async () => {
    const s = stack();
    try {
      const rs = Array.from({ length: 100 }, (_, i) => rec(`m${i}`));
      put(s, 'm.manifest.json', JSON.stringify({ records: 100 }));
      put(s, 'm.jsonl', jl(rs.slice(0, 99)));
      await s.service.tick();
      const [f] = await fileByPath(s, 'm.jsonl');
      assert.equal(f!.state, 'incomplete');
      assert.equal(f!.detail, 'record count mismatch: manifest says 100, file holds 99');
      assert.equal(bronzeIds(s).length, 0);
      assert.ok(s.logs.some((l) => l.event === 'file.incomplete' && l.file === 'm.jsonl'));
      assert.equal(await s.bronze.publishedUpTo(), 0);
      // A second pass changes nothing and does not re-hash.
      assert.equal((await s.service.tick()).unchanged, 1);
      // Fix the file: append the missing record.
      appendFileSync(path.join(s.landing, 'm.jsonl'), JSON.stringify(rs[99]) + '\n');
      s.clock.t += 1000;
      await s.service.tick();
      const all = await fileByPath(s, 'm.jsonl');
      assert.equal(all.length, 2);
      assert.equal(all[1]!.state, 'verified');
      assert.equal(all[1]!.recordsLanded, 100);
      assert.equal(new Set(bronzeIds(s)).size, 100);
    } finally {
      s.close();
    }
  });

  it('checksum and byte-count mismatches are incomplete; fixing the manifest lands the file', async () => {
    const s = stack();
    try {
      const body = jl([rec('s1'), rec('s2')]);
      put(s, 'a.manifest.json', JSON.stringify({ records: 2, sha256: sha('something else') }));
      put(s, 'a.jsonl', body);
      put(s, 'b.manifest.json', JSON.stringify({ records: 2, bytes: body.length + 5 }));
      put(s, 'b.jsonl', jl([rec('b1'), rec('b2')]));
      await s.service.tick();
      assert.match((await fileByPath(s, 'a.jsonl'))[0]!.detail!, /^checksum mismatch/);
      assert.match(
        (await fileByPath(s, 'b.jsonl'))[0]!.detail!,
        /^byte count mismatch: manifest says \d+ bytes, file has \d+/,
      );
      assert.equal(bronzeIds(s).length, 0);
      put(s, 'a.manifest.json', JSON.stringify({ records: 2, sha256: sha(body), bytes: body.length }));
      await s.service.tick();
      const a = await fileByPath(s, 'a.jsonl');
      assert.equal(a.at(-1)!.state, 'verified');
      assert.deepEqual(bronzeIds(s), ['s1', 's2']);
    } finally {
      s.close();
    }
  });

  it('an invalid manifest or requireManifest without one makes the file wait (reported with a reason)', async () => {
    const s = stack({ requireManifest: true });
    try {
      put(s, 'x.jsonl', jl([rec('x')]));
      put(s, 'y.jsonl', jl([rec('y')]));
      put(s, 'y.manifest.json', '{"records": "one"}');
      const r = await s.service.tick();
      assert.deepEqual(r.waiting.map((w) => [w.rel, w.reason]).sort(), [
        ['x.jsonl', 'manifest-missing'],
        ['y.jsonl', 'manifest-invalid'],
      ]);
      assert.match(
        r.waiting.find((w) => w.rel === 'y.jsonl')!.detail,
        /"records" must be a non-negative integer/,
      );
      assert.equal((await s.bronze.files()).length, 0);
      put(s, 'x.manifest.json', JSON.stringify({ records: 1 }));
      await s.service.tick();
      assert.equal((await fileByPath(s, 'x.jsonl'))[0]!.state, 'verified');
    } finally {
      s.close();
    }
  });

  it('waits for the stability window; a growing file lands once, complete', async () => {
    const s = stack({ stableWindowMs: 1000 });
    try {
      const p = path.join(s.landing, 'grow.jsonl');
      writeFileSync(p, JSON.stringify(rec('a')) + '\n');
      assert.equal((await s.service.tick()).waiting[0]!.reason, 'unstable');
      s.clock.t += 600;
      appendFileSync(p, JSON.stringify(rec('b')) + '\n');
      assert.equal((await s.service.tick()).waiting.length, 1);
      s.clock.t += 600;
      assert.equal((await s.service.tick()).waiting.length, 1, 'the append reset the window');
      s.clock.t += 600;
      await s.service.tick();
      assert.deepEqual(bronzeIds(s), ['a', 'b']);
      assert.equal((await s.bronze.files()).length, 1);
    } finally {
      s.close();
    }
  });

  it('a manifest with bytes lands a file written in place as soon as it reaches that size, not before', async () => {
    const s = stack({ stableWindowMs: 60_000 });
    try {
      const body = jl([rec('w1'), rec('w2'), rec('w3')]);
      put(
        s,
        'w.manifest.json',
        JSON.stringify({ records: 3, bytes: Buffer.byteLength(body), sha256: sha(body) }),
      );
      const p = path.join(s.landing, 'w.jsonl');
      writeFileSync(p, body.slice(0, 30));
      const r = await s.service.tick();
      assert.equal(r.waiting[0]!.reason, 'unstable');
      assert.match(r.waiting[0]!.detail, /manifest says \d+ bytes, file has 30 so far/);
      appendFileSync(p, body.slice(30));
      await s.service.tick();
      assert.equal((await fileByPath(s, 'w.jsonl'))[0]!.state, 'verified');
      assert.deepEqual(bronzeIds(s), ['w1', 'w2', 'w3']);
    } finally {
      s.close();
    }
  });

  it('same bytes again are a no-op; a kept file is not re-hashed; a changed kept file is a new version', async () => {
    const s = stack({ afterLanding: 'keep' });
    try {
      put(s, 'k.jsonl', jl([rec('k', { version: 1 })]));
      await s.service.tick();
      put(s, 'copy.jsonl', jl([rec('k', { version: 1 })]));
      const r = await s.service.tick();
      assert.deepEqual(
        r.landed.map((o) => o.kind),
        ['duplicate'],
      );
      assert.equal(r.unchanged, 1);
      const r2 = await s.service.tick();
      assert.equal(r2.unchanged, 2);
      assert.deepEqual(r2.landed, []);
      s.clock.t += 5000;
      put(s, 'k.jsonl', jl([rec('k', { version: 2, text: 'new text' })]));
      const r3 = await s.service.tick();
      assert.deepEqual(
        r3.landed.map((o) => o.kind),
        ['landed'],
      );
      assert.deepEqual(
        (await fileByPath(s, 'k.jsonl')).map((f) => f.state),
        ['unverified', 'unverified'],
      );
      assert.deepEqual(bronzeIds(s), ['k', 'k']);
    } finally {
      s.close();
    }
  });

  it('ignores .*, *.tmp and *.partial until renamed; then lands once', async () => {
    const s = stack();
    try {
      writeFileSync(path.join(s.landing, 'a.jsonl.tmp'), jl([rec('a')]));
      writeFileSync(path.join(s.landing, 'b.jsonl.partial'), jl([rec('b')]));
      writeFileSync(path.join(s.landing, '.c.jsonl'), jl([rec('c')]));
      await s.service.tick();
      assert.equal((await s.bronze.files()).length, 0);
      renameSync(path.join(s.landing, 'a.jsonl.tmp'), path.join(s.landing, 'a.jsonl'));
      await s.service.tick();
      await s.service.tick();
      assert.deepEqual(bronzeIds(s), ['a']);
    } finally {
      s.close();
    }
  });

  it('a symlink pointing outside the landing folder (file or directory) is refused and never read', async () => {
    const s = stack();
    const outside = mkdtempSync(path.join(tmpdir(), 'seamline-outside-'));
    try {
      writeFileSync(path.join(outside, 'secret.jsonl'), jl([rec('secret')]));
      writeFileSync(path.join(outside, 'secret.manifest.json'), JSON.stringify({ records: 1 }));
      symlinkSync(path.join(outside, 'secret.jsonl'), path.join(s.landing, 'secret.jsonl'));
      symlinkSync(outside, path.join(s.landing, 'dir'));
      put(s, 'ok.jsonl', jl([rec('ok')]));
      symlinkSync(path.join(outside, 'secret.manifest.json'), path.join(s.landing, 'ok2.manifest.json'));
      put(s, 'ok2.jsonl', jl([rec('ok2')]));
      const r = await s.service.tick();
      assert.deepEqual(r.refused.map((x) => x.rel).sort(), ['dir', 'secret.jsonl']);
      assert.ok(r.refused.every((x) => /outside the landing folder/.test(x.reason)));
      assert.ok(s.logs.some((l) => l.event === 'file.refused' && l.file === 'secret.jsonl'));
      assert.deepEqual(bronzeIds(s), ['ok']);
      assert.ok(!bronzeIds(s).includes('secret'));
      assert.match(r.waiting.find((w) => w.rel === 'ok2.jsonl')!.detail, /symlink/);
      // The refusal is logged once, not on every pass.
      await s.service.tick();
      assert.equal(s.logs.filter((l) => l.event === 'file.refused' && l.file === 'secret.jsonl').length, 1);
    } finally {
      s.close();
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a file that left the folder between the scan and its landing is gone, not refused (run L13 saw warnings)', async () => {
    const s = stack();
    try {
      put(s, 'a.jsonl', jl([rec('a')]));
      // A scan that saw the file, then a landing of the same path that archives it (concurrent landing
      // can hold such a stale candidate), then the stale candidate lands.
      const stale = (await scanLanding(s.landing, ['jsonl'])).candidates.find((c) => c.rel === 'a.jsonl')!;
      await s.service.tick();
      assert.deepEqual(bronzeIds(s), ['a']);
      assert.equal(existsSync(path.join(s.landing, 'a.jsonl')), false, 'archived');
      const out = await s.loader.land(stale, null, null, null);
      assert.deepEqual(out, { kind: 'gone' });
      // A client that deletes its file before landing reads it: the same, and nothing is recorded.
      put(s, 'b.jsonl', jl([rec('b')]));
      const b = (await scanLanding(s.landing, ['jsonl'])).candidates.find((c) => c.rel === 'b.jsonl')!;
      rmSync(b.abs);
      assert.deepEqual(await s.loader.land(b, null, null, null), { kind: 'gone' });
      assert.deepEqual(
        s.logs.filter((l) => l.event === 'file.refused'),
        [],
        'no refusal warning for a file that is simply gone',
      );
      assert.deepEqual(bronzeIds(s), ['a']);
      assert.deepEqual(
        (await s.bronze.files()).map((f) => f.path),
        ['a.jsonl'],
      );
    } finally {
      s.close();
    }
  });

  it('a manifest written before its data file waits at info level; only an orphan is a warning', async () => {
    const s = stack();
    try {
      put(s, 'm.manifest.json', JSON.stringify({ records: 1 }));
      s.clock.t = Date.now();
      await s.service.tick();
      const waiting = s.logs.filter((l) => l.event === 'manifest.waiting');
      assert.deepEqual(
        waiting.map((l) => l.level),
        [30],
        'one info line while the client writes its data file',
      );
      assert.deepEqual(
        s.logs.filter((l) => (l.level as number) >= 40),
        [],
        'no warning for a normal write order',
      );
      s.clock.t = Date.now() + 120_000; // past landing.orphanManifestMs (60 s)
      await s.service.tick();
      assert.deepEqual(
        s.logs.filter((l) => l.event === 'manifest.orphan').map((l) => l.level),
        [40],
      );
      // The data file arrives after all: it lands, verified by the manifest.
      put(s, 'm.jsonl', jl([rec('m')]));
      await s.service.tick();
      assert.deepEqual(bronzeIds(s), ['m']);
      assert.equal((await fileByPath(s, 'm.jsonl'))[0]!.state, 'verified');
    } finally {
      s.close();
    }
  });
});
