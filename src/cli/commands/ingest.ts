import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildPipeline } from '../../daemon/pipeline.js';
import { SeamlineError } from '../../errors/errors.js';
import { MaintenanceGate } from '../../optimize/gate.js';
import { acquireWriter, Leases, WRITER_LEASE } from '../../runtime/lock.js';
import { openRuntime } from '../../runtime/runtime.js';
import { hooksOf, type Command } from '../context.js';
import { printOut } from '../output.js';

/** ingest --once: land every complete file present, process all of bronze, exit. */
export const ingest: Command = async (ctx) => {
  if (ctx.values.once !== true)
    throw new SeamlineError('USAGE', 'ingest needs --once (use `seamline run` for the continuous daemon)');
  const rt = await openRuntime(ctx.config, ctx.logger);
  const leases = new Leases(rt.db);
  try {
    const holder = acquireWriter(leases, ctx.config.dataDir, rt.clock.nowMs());
    try {
      await mkdir(ctx.config.landingDir, { recursive: true });
      rt.bronze.recoverLanding();
      const table = (await rt.servingTable(true))!;
      const { landing, processor } = await buildPipeline(rt, hooksOf(ctx));
      let landed = 0;
      let waiting = landing.waiting();
      // Files still settling get up to a few stability windows; files waiting for a manifest are reported.
      for (let pass = 0; pass < 20; pass++) {
        const r = await landing.tick();
        landed += r.landed.filter((o) => o.kind === 'landed').length;
        waiting = r.waiting;
        if (
          !r.waiting.some((w) => w.reason === 'unstable') &&
          !r.landed.some((o) => o.kind === 'changed-while-reading')
        )
          break;
        await sleep(Math.max(50, Math.min(ctx.config.completeness.stableWindowMs, 1000)));
      }
      // Batch by batch (not processor.drain) so the optimize job's maintenance lease can pause new merges.
      const gate = new MaintenanceGate(leases, rt.clock, ctx.logger, {
        maxPauseMs: ctx.config.optimize.maxWriterPauseMs,
        holder,
      });
      const batches: NonNullable<Awaited<ReturnType<typeof processor.runOnce>>>[] = [];
      for (;;) {
        await gate.waitIfHeld();
        const b = await processor.runOnce(table);
        if (!b) break;
        batches.push(b);
      }
      const summary = {
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
      printOut(ctx.json, summary, () =>
        [
          `landed ${summary.filesLanded} file(s); ${summary.batches} batch(es), ${summary.records} record(s)`,
          `table ${summary.table}: +${summary.inserted} inserted, ${summary.updated} updated, ${summary.deleted} deleted (embedded ${summary.embedded}, reused ${summary.reused}); ${summary.tableRows} rows, version ${summary.tableVersion}`,
          ...waiting.map((w) => `waiting: ${w.rel}: ${w.detail}`),
        ].join('\n'),
      );
      return 0;
    } finally {
      leases.release(WRITER_LEASE, holder);
    }
  } finally {
    await rt.close();
  }
};
