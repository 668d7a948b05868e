import { mkdir } from 'node:fs/promises';
import { buildPipeline, type TestHooks } from '../daemon/pipeline.js';
import { SeamlineError } from '../errors/errors.js';
import { MaintenanceGate } from '../optimize/gate.js';
import { workerLease } from '../ports/leases.js';
import { every } from '../runtime/every.js';
import {
  acquireWorker,
  acquireWriter,
  LANDER_LEASE,
  LANDER_TTL_MS,
  WRITER_LEASE,
  WRITER_TTL_MS,
} from '../runtime/lock.js';
import type { Runtime } from '../runtime/runtime.js';
import type { IngestSummary } from './types.js';

export type { IngestSummary } from './types.js';

/**
 * Lands every complete file present, processes all of bronze, returns the summary. Takes the writer
 * lease for its duration (LOCKED, exit 6, when a daemon holds the data folder).
 */
export async function ingestOnce(
  rt: Runtime,
  hooks: TestHooks,
  signal?: AbortSignal,
): Promise<IngestSummary> {
  const leases = rt.leases;
  // PostgreSQL: one of several workers (worker lease renewed meanwhile; lands only as the lander).
  const shared = rt.config.db.kind === 'postgres';
  const holder = shared
    ? await acquireWorker(leases, rt.clock.nowMs())
    : await acquireWriter(leases, rt.config.dataDir, rt.clock.nowMs());
  const leaseName = shared ? workerLease(holder) : WRITER_LEASE;
  const renewCtl = new AbortController();
  const renewing = shared
    ? every(
        rt.clock,
        WRITER_TTL_MS / 3,
        renewCtl.signal,
        async () => void (await leases.tryAcquire(leaseName, holder, WRITER_TTL_MS, rt.clock.nowMs())),
        (e) => rt.logger.warn({ event: 'lease.renew_failed', err: e }, 'worker lease renewal failed'),
      )
    : Promise.resolve();
  try {
    await mkdir(rt.config.landingDir, { recursive: true });
    const lands = !shared || (await leases.tryAcquire(LANDER_LEASE, holder, LANDER_TTL_MS, rt.clock.nowMs()));
    if (lands) await rt.bronze.recoverLanding();
    const table = (await rt.servingTable(true))!;
    const { landing, processor } = await buildPipeline(rt, hooks, undefined, { oneShot: true });
    let landed = 0;
    let waiting = landing.waiting();
    // Files still settling get up to a few stability windows; files waiting for a manifest are reported.
    // Several workers: a daemon holding the lander lease lands the files; this run helps process them.
    for (let pass = 0; lands && pass < 20; pass++) {
      const r = await landing.tick();
      landed += r.landed.filter((o) => o.kind === 'landed').length;
      waiting = r.waiting;
      if (
        !r.waiting.some((w) => w.reason === 'unstable') &&
        !r.landed.some((o) => o.kind === 'changed-while-reading')
      )
        break;
      if (signal?.aborted) break;
      await rt.clock.sleep(Math.max(50, Math.min(rt.config.completeness.stableWindowMs, 1000)), signal);
    }
    // Batch by batch (not processor.drain) so the optimize job's maintenance lease can pause new merges.
    const gate = new MaintenanceGate(leases, rt.clock, rt.logger, {
      maxPauseMs: rt.config.optimize.maxWriterPauseMs,
      holder,
    });
    const batches: NonNullable<Awaited<ReturnType<typeof processor.runOnce>>>[] = [];
    for (;;) {
      // A shutdown stops between batches: the batch in flight is committed, the rest waits for the next run.
      if (signal?.aborted)
        throw new SeamlineError(
          'ABORTED',
          `ingest interrupted after ${batches.length} batch(es); run it again to process the rest`,
        );
      await gate.waitIfHeld(signal);
      const b = await processor.runOnce(table);
      if (!b) break;
      batches.push(b);
    }
    return {
      filesLanded: landed,
      waiting,
      batches: batches.length,
      records: batches.reduce((a, b) => a + b.recordsIn, 0),
      inserted: batches.reduce((a, b) => a + b.result.inserted, 0),
      updated: batches.reduce((a, b) => a + b.result.updated, 0),
      deleted: batches.reduce((a, b) => a + b.result.deleted, 0),
      embedded: batches.reduce((a, b) => a + b.result.embedded, 0),
      reused: batches.reduce((a, b) => a + b.result.reused, 0),
      table: table.name,
      tableRows: await table.countRows(),
      tableVersion: await table.version(),
    };
  } finally {
    renewCtl.abort();
    await renewing;
    if (shared) await leases.release(LANDER_LEASE, holder);
    await leases.release(leaseName, holder);
  }
}
