import { startDaemon } from '../../daemon/daemon.js';
import { openRuntime } from '../../runtime/runtime.js';
import { hooksOf, type Command } from '../context.js';

/**
 * run: the daemon, until SIGTERM/SIGINT. The first signal drains (the batch in flight finishes, then
 * everything closes in reverse order, exit 0); a second signal or the shutdown deadline forces exit.
 */
export const run: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
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
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      ctx.logger.warn({ event: 'daemon.forced_exit', signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    ctx.logger.info({ event: 'daemon.draining', signal: sig }, 'draining: finishing the batch in flight');
    d.stop();
    setTimeout(() => {
      ctx.logger.error(
        { event: 'daemon.deadline', deadline_ms: ctx.config.shutdownDeadlineMs },
        'shutdown deadline passed; exiting',
      );
      process.exit(1);
    }, ctx.config.shutdownDeadlineMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await d.done;
  } finally {
    await rt.close();
    ctx.logger.info({ event: 'daemon.stopped' }, 'daemon stopped');
  }
  return 0;
};
