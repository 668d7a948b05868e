import { runOptimizeJob } from '../../optimize/job.js';
import { runOptimizePass } from '../../optimize/optimizer.js';
import { runJob } from '../../runtime/job.js';
import { lowerPriority } from '../../runtime/priority.js';
import { openRuntime } from '../../runtime/runtime.js';
import { optimizerDepsOf } from '../../runtime/wiring.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

/** optimize [--once]: one maintenance pass and exit, or the optimize job until SIGTERM/SIGINT. */
export const optimize: Command = async (ctx) => {
  // Before the stores open: LanceDB's threads, started later by this thread, inherit the priority.
  lowerPriority(ctx.config.optimize.nice, ctx.logger);
  const rt = await openRuntime(ctx.config, ctx.logger);
  const deps = optimizerDepsOf(rt);
  try {
    if (ctx.values.once === true) {
      const r = await runOptimizePass(deps, ctx.config.optimize);
      const { decision: _decision, ...record } = r;
      printOut(ctx.json, record, () =>
        [
          `optimize ${r.status}${r.tableName ? ` on ${r.tableName}` : ''}${r.actions.length ? `: ${r.actions.join(', ')}` : ''}`,
          r.fragmentsBefore !== null
            ? `fragments ${r.fragmentsBefore} → ${r.fragmentsAfter ?? '?'}, versions ${r.versionsBefore} → ${r.versionsAfter ?? '?'}, disk ${r.diskBytesBefore} → ${r.diskBytesAfter ?? '?'} bytes (reclaimed ${r.bytesReclaimed ?? 0})`
            : 'no serving table yet',
          `indexed rows ${r.indexedRows ?? 0}, unindexed ${r.unindexedRows ?? 0}; conflicts ${r.conflicts}; ${r.durationMs ?? 0} ms`,
          ...(r.decision?.reasons ?? []).map(
            (x) => `  ${x.decision === 'do' ? '+' : '-'} ${x.action}: ${x.why}`,
          ),
          ...(r.error ? [`error: ${r.error}`] : []),
        ].join('\n'),
      );
      return r.status === 'failed' ? 4 : 0;
    }
    const s = await runJob(
      {
        name: 'optimize',
        logger: ctx.logger,
        deadlineMs: ctx.config.shutdownDeadlineMs,
        drainMessage: 'stopping after the current action; the lease is released',
      },
      (signal) => runOptimizeJob(deps, ctx.config.optimize, signal),
    );
    printOut(
      ctx.json,
      s,
      () => `optimize job stopped after ${s.passes} pass(es): ${JSON.stringify(s.byStatus)}`,
    );
    return 0;
  } finally {
    await rt.close();
  }
};
