import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { ContractSchema } from '../../../src/config/schema.js';
import { buildContract } from '../../../src/contract/contract.js';
import { Loader } from '../../../src/landing/loader.js';
import { systemClock } from '../../../src/ports/clock.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { BronzeSql, SqliteBronze } from '../../../src/store/sqlite/bronze.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';

// A landing's SQLite transactions run on the daemon's main thread: a 1,000-record file used to go to
// bronze in one transaction (10–22 ms median, up to 70 ms on 2 shared cores) and held the event loop
// (docs/decisions/landing-slices.md). Each transaction now holds at most 200 parsed lines; the file
// is still published whole, in one transaction, at the end.

const dir = mkdtempSync(path.join(tmpdir(), 'seamline-slices-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('landing slices (real SQLite)', () => {
  it('a 1,000-record file is written in transactions of at most 200 lines and published once', async () => {
    const landing = path.join(dir, 'landing');
    mkdirSync(landing, { recursive: true });
    const db = openSqlite(path.join(dir, 'data', 'seamline.db'), {
      synchronous: 'NORMAL',
      busyTimeoutMs: 1000,
    });
    const bronze = new SqliteBronze(new BronzeSql(db));
    const slices: number[] = [];
    const landSlice = bronze.landSlice.bind(bronze);
    bronze.landSlice = (fileId, recs, qs, nowMs) => {
      slices.push(recs.length + qs.length);
      // Nothing of the file is visible before it is published.
      assert.equal(db.prepare(`SELECT state FROM files WHERE file_id = ?`).pluck().get(fileId), 'landing');
      return landSlice(fileId, recs, qs, nowMs);
    };
    const loader = new Loader(
      {
        bronze,
        contract: buildContract(ContractSchema.parse({})),
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        fault: noFaults,
      },
      {
        maxLineBytes: 1 << 20,
        quarantineRawBytes: 256,
        afterLanding: 'keep',
        archiveDir: path.join(dir, 'archive'),
      },
    );
    const lines = Array.from({ length: 1010 }, (_, i) =>
      i % 101 === 100
        ? '{"id": "bad", "version": "not a number"}'
        : JSON.stringify({
            id: `r-${i}`,
            version: 1,
            event_time: '2026-01-01T00:00:00Z',
            text: `record ${i}`,
          }),
    );
    const abs = path.join(landing, 'big.jsonl');
    writeFileSync(abs, lines.join('\n') + '\n');
    const st = statSync(abs);
    const out = await loader.land(
      {
        rel: 'big.jsonl',
        abs,
        format: 'jsonl',
        size: st.size,
        mtimeMs: st.mtimeMs,
        dev: st.dev,
        ino: st.ino,
      },
      null,
      null,
      null,
    );
    assert.equal(out.kind, 'landed');
    if (out.kind !== 'landed') return;
    assert.equal(out.file.state, 'unverified');
    assert.equal(out.file.recordsRead, 1010);
    assert.equal(out.file.recordsQuarantined, 10);
    assert.equal(out.file.recordsLanded, 1000);
    assert.equal(out.file.seqTo! - out.file.seqFrom! + 1, 1000, 'one contiguous seq range');
    assert.equal(
      slices.reduce((a, b) => a + b, 0),
      1010,
      'every line went to bronze or quarantine once',
    );
    assert.ok(Math.max(...slices) <= 200, `slices ${slices.join(',')}`);
    assert.ok(slices.length >= 6, `slices ${slices.join(',')}`);
    db.close();
  });
});
