import { startDaemon } from '../../daemon/daemon.js';
import { runJob } from '../../runtime/job.js';
import { openRuntime } from '../../runtime/runtime.js';
import { hooksOf, type Command } from '../context.js';

/**
 * run: the daemon, until SIGTERM/SIGINT. The first signal drains (the batch in flight finishes, then
 * everything closes in reverse order, exit 0); a second signal or the shutdown deadline forces exit
 * (the job harness, runtime/job.ts).
 */
export const run: Command = (ctx) =>
  runJob(
    {
      name: 'daemon',
      logger: ctx.logger,
      deadlineMs: ctx.config.shutdownDeadlineMs,
      drainMessage: 'draining: finishing the batch in flight',
    },
    async (signal) => {
      const rt = await openRuntime(ctx.config, ctx.logger);
      try {
        const d = startDaemon(rt, hooksOf(ctx), undefined, {
          onListening: (host, port) => {
            // stdout carries the bound address (port 0 picks one): the one line of command output `run` has.
            process.stdout.write(
              ctx.json
                ? `${JSON.stringify({ event: 'http.listening', host, port })}\n`
                : `listening on http://${host.includes(':') ? `[${host}]` : host}:${port}\n`,
            );
          },
        });
        signal.addEventListener('abort', () => d.stop(), { once: true });
        await d.done;
      } finally {
        await rt.close();
        ctx.logger.info({ event: 'daemon.stopped' }, 'daemon stopped');
      }
      return 0;
    },
  );
