import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MAINTENANCE_ACK, MAINTENANCE_LEASE } from '../../src/runtime/lock.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { SqliteLeases } from '../../src/store/sqlite/leases.js';
import { jsonl, waitFor } from '../helpers/cli.js';
import { E2eFixture } from '../helpers/daemon.js';
import { servingRows } from '../helpers/table.js';

// The land-stage stall of run L7 (docs/decisions/processor-merge-window.md): while the optimize job
// held its maintenance lease (compaction, an HNSW build: 8–20 s at 20,000 rows) the daemon started no
// batch at all, so a fresh file waited out the whole window. Here the test holds the lease itself, as
// the optimize job would, with a pause bound far beyond the test's timeouts: a fresh file (new ids:
// an append) must become searchable while the lease is still held, and an update of existing rows
// (a rewrite, which would make the compaction lose its commit) must wait until the lease is released.

const recs = (prefix: string, n: number, version = 1) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    version,
    event_time: '2026-01-01T00:00:00Z',
    text: `${prefix} record ${i} version ${version} about rivers, harbors and lanterns`,
  }));

describe('maintenance window in the daemon (subprocess)', () => {
  const fx = new E2eFixture();
  after(() => fx.cleanup());

  it(
    'appends are merged while the optimize job holds the lease; a rewrite waits for its release',
    { timeout: 240_000 },
    async () => {
      const ws = fx.workspace({
        model: { id: 'local/glove-sif-100d' },
        processor: { triggerIntervalMs: 100, maxFiles: 1 },
        optimize: { maxWriterPauseMs: 3_600_000 },
        completeness: { stableWindowMs: 100 },
        log: { level: 'info' },
      });
      const d = fx.start(['run'], ws.env());
      await waitFor(
        () => d.output().stderr.includes('"event":"daemon.running"'),
        60_000,
        'the daemon to run',
      );
      const versionOf = async (id: string): Promise<number | null> =>
        (await servingRows(ws.data)).find((r) => r.id === id)?.sourceVersion ?? null;
      ws.drop('base.jsonl', jsonl(recs('a', 5)));
      await waitFor(
        async () => (await versionOf('a-4')) === 1,
        60_000,
        'the base file to be searchable',
        100,
      );

      // The test is the optimize job: it takes the maintenance lease and waits for the writer's ack.
      const db = openSqlite(path.join(ws.data, 'seamline.db'), {
        synchronous: 'NORMAL',
        busyTimeoutMs: 5000,
      });
      try {
        const leases = new SqliteLeases(db);
        const me = `${hostname()}:${process.pid}:optimize`;
        assert.ok(await leases.tryAcquire(MAINTENANCE_LEASE, me, 3_600_000, Date.now()));
        await waitFor(
          async () => (await leases.liveHolder(MAINTENANCE_ACK, Date.now())) !== null,
          30_000,
          'the writer to acknowledge the window',
          50,
        );

        ws.drop('fresh.jsonl', jsonl(recs('b', 5)));
        await waitFor(
          async () => (await versionOf('b-4')) === 1,
          60_000,
          'the fresh file (an append) to become searchable while the lease is held',
          100,
        );
        assert.equal((await leases.liveHolder(MAINTENANCE_LEASE, Date.now()))?.holder, me, 'still held');

        ws.drop('update.jsonl', jsonl(recs('a', 1, 2)));
        await waitFor(
          () => d.output().stderr.includes('"event":"maintenance.merge_wait"'),
          60_000,
          'the update (a rewrite) to wait for the window',
          50,
        );
        assert.equal(await versionOf('a-0'), 1, 'no rewrite is merged while the lease is held');

        await leases.release(MAINTENANCE_LEASE, me);
        await waitFor(
          async () => (await versionOf('a-0')) === 2,
          60_000,
          'the update after the release',
          100,
        );
        assert.equal(await leases.liveHolder(MAINTENANCE_ACK, Date.now()), null, 'the ack is gone');
      } finally {
        db.close();
      }
      d.child.kill('SIGTERM');
      const r = await d.exited;
      assert.equal(r.code, 0, r.stderr.slice(-2000));
    },
  );
});
