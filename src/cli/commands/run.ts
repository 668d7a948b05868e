import { startDaemon } from '../../daemon/daemon.js';
import { openRuntime } from '../../runtime/runtime.js';
import { hooksOf, type Command } from '../context.js';

/** run: the daemon, until SIGTERM/SIGINT (a second signal forces exit). */
export const run: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  const d = startDaemon(rt, hooksOf(ctx));
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
      ctx.logger.error({ event: 'daemon.deadline', deadline_ms: ctx.config.shutdownDeadlineMs }, 'shutdown deadline passed; exiting');
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

