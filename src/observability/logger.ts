import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };

/** `log.format`: `pretty` (human lines), `json` (one JSON object per line), `auto` (pretty on a terminal). */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  /** Default `auto`. */
  readonly format?: LogFormat;
  /** Whether the destination is a terminal; default `process.stderr.isTTY` (injected by tests). */
  readonly isTTY?: boolean;
  /** Where lines go; default stderr (fd 2), synchronously. */
  readonly destination?: DestinationStream;
  /** Colours in pretty mode; default: on when the destination is a terminal. */
  readonly colorize?: boolean;
}

/** A short random id that tags every log line of one process. */
export function newRunId(): string {
  return randomUUID().slice(0, 8);
}

/** Pretty when asked, or when `auto` and the destination is a terminal; JSON otherwise. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'pretty' | 'json' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

/**
 * One pino logger per process, to stderr (stdout is for command output), with run_id on every line.
 * Child loggers add batch_id / file where a line concerns one. Errors go under `err` as the Error
 * itself: pino's serializer keeps type, message, stack and the `cause` chain in both formats.
 */
export function createLogger(
  level: string,
  runId: string,
  component: string,
  options: LoggerOptions = {},
): Logger {
  const isTTY = options.isTTY ?? process.stderr.isTTY === true;
  const format = resolveLogFormat(options.format ?? 'auto', isTTY);
  const base = {
    level,
    base: { run_id: runId, component },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.errWithCause },
  };
  if (format === 'json') return pino(base, options.destination ?? pino.destination({ fd: 2, sync: true }));
  const pretty = prettyStream({
    destination: options.destination ?? 2,
    sync: true,
    colorize: options.colorize ?? isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,run_id,component,event',
    messageFormat: '{if component}{component} {end}{if event}{event}: {end}{msg}',
    singleLine: true,
    errorLikeObjectKeys: ['err', 'error'],
  });
  return pino(base, pretty);
}
