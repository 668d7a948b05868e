import { ingestOnce } from '../../api/ingest.js';
import { SeamlineError } from '../../errors/errors.js';
import { runJob } from '../../runtime/job.js';
import { openRuntime } from '../../runtime/runtime.js';
import { hooksOf, type Command } from '../context.js';
import { printOut } from '../output.js';

/**
 * ingest --once: land every complete file present, process all of bronze, exit. SIGTERM/SIGINT stop
 * it between batches (exit 130, ABORTED; the next run continues); a second signal exits at once.
 */
export const ingest: Command = async (ctx) => {
  if (ctx.values.once !== true)
    throw new SeamlineError('USAGE', 'ingest needs --once (use `seamline run` for the continuous daemon)');
  return runJob(
    {
      name: 'ingest',
      logger: ctx.logger,
      deadlineMs: ctx.config.shutdownDeadlineMs,
      drainMessage: 'stopping after the batch in flight',
    },
    async (signal) => {
      const rt = await openRuntime(ctx.config, ctx.logger);
      try {
        const summary = await ingestOnce(rt, hooksOf(ctx), signal);
        printOut(ctx.json, summary, () =>
          [
            `landed ${summary.filesLanded} file(s); ${summary.batches} batch(es), ${summary.records} record(s)`,
            `table ${summary.table}: +${summary.inserted} inserted, ${summary.updated} updated, ${summary.deleted} deleted (embedded ${summary.embedded}, reused ${summary.reused}); ${summary.tableRows} rows, version ${summary.tableVersion}`,
            ...summary.waiting.map((w) => `waiting: ${w.rel}: ${w.detail}`),
          ].join('\n'),
        );
        return 0;
      } finally {
        await rt.close();
      }
    },
  );
};
