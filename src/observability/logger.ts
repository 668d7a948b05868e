import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

/** A short random id that tags every log line of one process. */
export function newRunId(): string {
  return randomUUID().slice(0, 8);
}

/**
 * One pino logger per process, JSON to stderr (stdout is for command output), with run_id on every
 * line. Child loggers add batch_id / file where a line concerns one.
 */
export function createLogger(level: string, runId: string, component: string): Logger {
  return pino(
    { level, base: { run_id: runId, component }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}
