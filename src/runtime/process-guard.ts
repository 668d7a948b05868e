import type { Logger } from '../observability/logger.js';
import { toSeamlineError } from '../errors/errors.js';

/**
 * Last line of defence for a long-lived process: a promise rejection nobody handled is logged with its
 * code and the process carries on (it was background work; its lane reports its own failures); an
 * uncaught exception leaves state unknown, so it is logged and the process exits 70 (INTERNAL, documented)
 * instead of Node's undocumented 1. Returns the uninstaller.
 */
export function guardProcess(
  logger: Logger,
  exit: (code: number) => void = (c) => process.exit(c),
): () => void {
  const onRejection = (reason: unknown): void => {
    const err = toSeamlineError(reason);
    logger.error(
      { event: 'process.unhandled_rejection', code: err.code, err: reason },
      'a background promise failed and nobody handled it; continuing',
    );
  };
  const onException = (e: unknown): void => {
    const err = toSeamlineError(e);
    logger.fatal(
      { event: 'process.uncaught_exception', code: err.code, err: e },
      'uncaught exception; exiting 70',
    );
    exit(70);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
