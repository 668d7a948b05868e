import type { Logger } from '../observability/logger.js';
import { systemClock, type Clock } from '../ports/clock.js';

/** Where signals come from (the process, or an EventEmitter in unit tests). */
export interface SignalSource {
  on(sig: NodeJS.Signals, fn: (sig: NodeJS.Signals) => void): unknown;
  off(sig: NodeJS.Signals, fn: (sig: NodeJS.Signals) => void): unknown;
}

export interface JobHarnessOptions {
  /** Names the log events: `<name>.draining`, `<name>.forced_exit`, `<name>.deadline`. */
  readonly name: string;
  readonly logger: Logger;
  /** After the first signal, the job has this long to drain before the process ends (config shutdownDeadlineMs). */
  readonly deadlineMs: number;
  /** What draining means for this job, for the log line. */
  readonly drainMessage: string;
  /** The reason the job's signal is aborted with (default: an AbortError). */
  readonly abortReason?: () => unknown;
  readonly clock?: Clock;
  readonly signals?: SignalSource;
  /** How the process ends at once; default {@link endBySignal}. */
  readonly exit?: (signal: NodeJS.Signals, fallbackCode: number) => void;
}

/** Exit code of a second signal if the process outlives its own signal (as a shell reports SIGINT). */
export const FORCED_EXIT_CODE = 130;
/** Exit code when the drain outlives the deadline, if the process outlives its own signal. */
export const DEADLINE_EXIT_CODE = 1;

/**
 * Ends the process at once the way the signal's default action does: our handlers are removed and the
 * signal is raised again, so the kernel ends the process with no teardown (a shell reports 128 + n:
 * 130 for SIGINT, 143 for SIGTERM; systemd counts it as a clean stop). process.exit() is not used here:
 * it stops worker threads first, and an embedding worker inside a native ONNX Runtime call then aborts
 * the whole process ("terminate called after throwing an instance of 'Napi::Error'", SIGABRT). If the
 * signal is somehow survived, the process exits with fallbackCode.
 */
export function endBySignal(signal: NodeJS.Signals, fallbackCode: number): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  process.exit(fallbackCode);
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * The one lifecycle of every long-lived or one-shot command (run, ingest, optimize, reindex): the first
 * SIGTERM/SIGINT aborts the job's signal (the job drains: finishes its batch or step in flight, releases
 * what it holds, returns or throws ABORTED) and starts the shutdown deadline; a second signal, or the
 * deadline passing, ends the process at once by that signal (the second one; for the deadline, the first). The job's own result or error is the command's.
 */
export async function runJob<T>(o: JobHarnessOptions, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const clock = o.clock ?? systemClock;
  const signals = o.signals ?? process;
  const exit = o.exit ?? endBySignal;
  const ctl = new AbortController();
  const deadline = new AbortController();
  let received = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    received += 1;
    if (received > 1) {
      o.logger.warn({ event: `${o.name}.forced_exit`, signal: sig }, 'second signal: exiting now');
      exit(sig, FORCED_EXIT_CODE);
      return;
    }
    o.logger.info({ event: `${o.name}.draining`, signal: sig }, o.drainMessage);
    ctl.abort(o.abortReason?.());
    void clock.sleep(o.deadlineMs, deadline.signal).then(() => {
      if (deadline.signal.aborted) return;
      o.logger.error(
        { event: `${o.name}.deadline`, deadline_ms: o.deadlineMs },
        'shutdown deadline passed; exiting',
      );
      exit(sig, DEADLINE_EXIT_CODE);
    });
  };
  for (const s of SIGNALS) signals.on(s, onSignal);
  try {
    return await job(ctl.signal);
  } finally {
    deadline.abort();
    for (const s of SIGNALS) signals.off(s, onSignal);
  }
}
