import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BronzeSql, SqliteBronze } from '../../../src/store/sqlite/bronze.js';
import { ContractSchema } from '../../../src/config/schema.js';
import { buildContract } from '../../../src/contract/contract.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { IncidentsSql, SqliteIncidents } from '../../../src/store/sqlite/incidents.js';
import { Loader } from '../../../src/landing/loader.js';
import { LandingService } from '../../../src/landing/service.js';
import { noWriterCheck, ProcOpenWriters } from '../../../src/landing/writers.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { systemClock } from '../../../src/ports/clock.js';

const rec = (id: string) =>
  JSON.stringify({ id, version: 1, event_time: '2024-01-01T00:00:00Z', text: `text of ${id}` }) + '\n';

/** A real writer process holding its descriptor, one line every `everyMs`. */
function slowWriter(file: string, ids: readonly string[], everyMs: number): Promise<void> {
  const src = `
    const fs = require('node:fs');
    const lines = ${JSON.stringify(ids.map(rec))};
    const fd = fs.openSync(${JSON.stringify(file)}, 'a');
    let i = 0;
    const step = () => { fs.writeSync(fd, lines[i++]); if (i < lines.length) setTimeout(step, ${everyMs}); else fs.closeSync(fd); };
    step();`;
  const child = spawn(process.execPath, ['-e', src], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stack(afterLanding: 'archive' | 'delete' | 'keep', check: 'on' | 'off', growthWatchMs = 60_000) {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-growth-'));
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
  const clock = systemClock;
  const writers = check === 'on' ? new ProcOpenWriters() : noWriterCheck();
  const archiveDir = path.join(dir, 'data', 'archive');
  const loader = new Loader(
    {
      bronze,
      contract: buildContract(ContractSchema.parse({})),
      clock,
      logger,
      fault: noFaults,
      writers,
      incidents: new SqliteIncidents(new IncidentsSql(db)),
    },
    {
      maxLineBytes: 1 << 20,
      quarantineRawBytes: 256,
      afterLanding,
      archiveDir,
      growthWatchMs,
      stableWindowMs: 400,
      closedQuietMs: 100,
    },
  );
  const policy = { stableWindowMs: 400, requireManifest: false, closedQuietMs: 100 };
  const service = new LandingService(landing, ['jsonl', 'jsonl.gz'], policy, loader, clock, logger, {
    writers,
    bronze,
    afterLanding,
    concurrency: 2,
  });
  return {
    dir,
    landing,
    db,
    bronze,
    service,
    logs,
    archiveDir,
    close: () => (db.close(), rmSync(dir, { recursive: true, force: true })),
  };
}

/** Ticks the service until the writer is done and a few quiet periods after. */
async function run(s: ReturnType<typeof stack>, writer: Promise<void>): Promise<void> {
  let done = false;
  void writer.then(() => (done = true));
  while (!done) {
    await s.service.tick();
    await sleep(100);
  }
  for (let i = 0; i < 30; i++) {
    await s.service.tick();
    await sleep(100);
  }
}

const ids = Array.from({ length: 4 }, (_, i) => `g-${i}`);

describe('growth after landing with a real writer process (window 400 ms, line every 700 ms)', () => {
  for (const mode of ['keep', 'archive', 'delete'] as const)
    it(`${mode}: without the open-writer check the file lands early and every later line lands as a continuation`, async () => {
      const s = stack(mode, 'off');
      try {
        await run(s, slowWriter(path.join(s.landing, 'slow.jsonl'), ids, 700));
        const rows = (await s.bronze.files()).filter((f) => f.path === 'slow.jsonl' && f.state !== 'failed');
        assert.ok(
          rows.length >= 2,
          `landed early, then continued: ${JSON.stringify(rows.map((r) => r.recordsRead))}`,
        );
        assert.equal(rows[0]!.continuationOf, null);
        for (let k = 1; k < rows.length; k++) {
          assert.equal(rows[k]!.continuationOf, rows[k - 1]!.fileId);
          assert.equal(rows[k]!.fromByte, rows[k - 1]!.landedBytes);
        }
        assert.equal(
          rows.reduce((a, r) => a + r.recordsRead, 0),
          4,
          'every line read once',
        );
        const bronzeIds = (
          s.db.prepare('SELECT record_id FROM bronze ORDER BY seq').all() as { record_id: string }[]
        ).map((r) => r.record_id);
        assert.deepEqual(bronzeIds, ids);
        assert.ok(s.logs.some((l) => l.event === 'file.grew_after_landing'));
        if (mode === 'keep') assert.ok(existsSync(path.join(s.landing, 'slow.jsonl')));
        else assert.ok(!existsSync(path.join(s.landing, 'slow.jsonl')));
        if (mode === 'delete')
          assert.ok(existsSync(path.join(s.archiveDir, '.pending-delete')), 'watched before deletion');
      } finally {
        s.close();
      }
    });

  it('archive with the open-writer check: the file lands once, whole, after the writer closes it', async () => {
    const s = stack('archive', 'on');
    try {
      await run(s, slowWriter(path.join(s.landing, 'slow.jsonl'), ids, 700));
      const all = (await s.bronze.files()).filter((f) => f.path === 'slow.jsonl');
      // On a loaded machine an attempt can start between two writes and see the file change under it:
      // that attempt is recorded as failed, publishes nothing, and is retried. What must hold: it lands
      // once, whole, with no continuation.
      const failed = all.filter((f) => f.state === 'failed');
      assert.ok(
        failed.every((f) => f.recordsLanded === 0),
        `a failed attempt publishes nothing: ${JSON.stringify(failed)}`,
      );
      const rows = all.filter((f) => f.state !== 'failed');
      assert.deepEqual(
        rows.map((r) => [r.state, r.recordsRead, r.continuationOf, r.completeBy]),
        [['unverified', 4, null, 'closed-and-quiet']],
      );
    } finally {
      s.close();
    }
  });

  it('delete: a file is removed when its growth watch ends', async () => {
    const s = stack('delete', 'off', 300);
    try {
      await run(s, slowWriter(path.join(s.landing, 'once.jsonl'), ['d-1'], 10));
      await sleep(400);
      await s.service.tick();
      const row = (await s.bronze.files()).find((f) => f.path === 'once.jsonl')!;
      assert.equal(row.storedPath, null);
      assert.equal(row.watchUntilMs, null);
    } finally {
      s.close();
    }
  });
});
