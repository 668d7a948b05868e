import { SeamlineError } from '../../errors/errors.js';
import { acquireWriter, WRITER_LEASE } from '../../runtime/lock.js';
import { openRuntime } from '../../runtime/runtime.js';
import { repair, verifyTable, type RepairReport, type VerifyReport } from '../../verify/verify.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

const human = (r: VerifyReport): string =>
  [
    `table ${r.table} (version ${r.tableVersion}, ledger ${r.ledgerVersion ?? '-'}): ${r.tableRows} rows, ${r.checkedIds} ids checked, ${r.pendingIds} in flight, ${r.vectorsSampled} vector(s) re-embedded and compared`,
    r.consistent
      ? 'consistent'
      : `INCONSISTENT: ${Object.entries(r.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
    ...(r.tableBehindLedger
      ? [`warning: table version ${r.tableVersion} is older than the ledger's ${r.ledgerVersion}`]
      : []),
    ...r.unreflectedBatches.map((b) => `  batch ${b.batchId}: ${b.ids} id(s) not reflected`),
    ...r.findings.slice(0, 50).map((f) => `  ${f.kind} ${JSON.stringify(f.id)}: ${f.detail}`),
  ].join('\n');

const strip = (r: VerifyReport & { allFindings?: unknown }): VerifyReport => {
  const { allFindings: _all, ...rest } = r;
  return rest;
};

/**
 * verify [--repair]: audits bronze ↔ ledger ↔ the serving table; exit 9 (VERIFY_INCONSISTENT) when
 * inconsistent. --repair (needs the writer lease: stop the daemon first) replays the affected ids
 * from bronze and verifies again.
 */
export const verify: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  const leases = rt.leases;
  let holder: string | null = null;
  try {
    if (ctx.values.repair === true)
      holder = await acquireWriter(leases, ctx.config.dataDir, rt.clock.nowMs());
    const serving = await rt.tables.serving();
    const table = await rt.servingTable(false);
    if (!serving || !table)
      throw new SeamlineError('USAGE', `nothing is indexed yet in ${ctx.config.dataDir}`);
    // Stored vectors must be the model's embedding of the stored text: re-embed a sample.
    const check = { embedder: await rt.embedder(serving.modelId), sample: ctx.config.verify.vectorSample };
    const before = await verifyTable(rt, table, check);
    let repaired: RepairReport | null = null;
    let after: (VerifyReport & { allFindings?: unknown }) | null = null;
    if (ctx.values.repair === true && !before.consistent) {
      const embedder = await rt.embedder(serving.modelId);
      repaired = await repair(rt, table, embedder, before.allFindings, ctx.logger);
      after = await verifyTable(rt, table, check);
    }
    const final = after ?? before;
    const out = { ...strip(before), ...(repaired ? { repaired, after: strip(after!) } : {}) };
    printOut(ctx.json, out, () =>
      [
        human(before),
        ...(repaired
          ? [
              `repair: replayed ${repaired.replayedIds} id(s) from bronze (cleared ${repaired.rowsCleared} row(s) of ${repaired.clearedIds} id(s) first): +${repaired.inserted} inserted, ${repaired.updated} updated, ${repaired.deleted} deleted`,
              ...(repaired.unexplainedIds.length
                ? [`left in place (unknown to bronze): ${repaired.unexplainedIds.slice(0, 20).join(', ')}`]
                : []),
              'after repair:',
              human(after!),
            ]
          : []),
      ].join('\n'),
    );
    if (!final.consistent) {
      process.stderr.write(
        `seamline: VERIFY_INCONSISTENT: ${Object.entries(final.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}${ctx.values.repair === true ? '' : ' (run seamline verify --repair)'}\n`,
      );
      return new SeamlineError('VERIFY_INCONSISTENT', 'inconsistent').exitCode;
    }
    return 0;
  } finally {
    if (holder) await leases.release(WRITER_LEASE, holder);
    await rt.close();
  }
};
