import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from '../observability/logger.js';

/** What {@link lowerPriority} did: threads reniced, left alone (already at least that nice), failed. */
export interface ReniceResult {
  readonly nice: number;
  readonly reniced: number;
  readonly unchanged: number;
  readonly failed: number;
}

/** Node's os calls throw ERR_SYSTEM_ERROR with the errno name under `info.code`. */
function isNoSuchThread(err: unknown): boolean {
  const e = err as { code?: string; info?: { code?: string } };
  return e.code === 'ESRCH' || e.info?.code === 'ESRCH';
}

/** The thread ids of this process (Linux: /proc/self/task); elsewhere only the calling thread (0). */
export function ownThreadIds(taskDir = '/proc/self/task'): number[] {
  try {
    return readdirSync(taskDir)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [0];
  }
}

/**
 * Lowers the CPU priority of every thread of this process to `nice` (0 = leave it). On Linux a nice
 * value belongs to a thread, not to the process: `setpriority(pid)` changes only the main thread, and
 * a thread keeps the value it inherited when it was created. So every existing thread is reniced
 * (libuv's pool, V8's helpers), and threads started later (LanceDB's runtime, ONNX Runtime's pool)
 * inherit it from the main thread that starts them. Only lowers priority (an unprivileged process
 * cannot raise it back); a thread that is already nicer is left alone. Never throws: a failure is
 * logged as `{ err }` and counted, the job runs at the priority it has.
 */
export function lowerPriority(nice: number, logger: Logger, tids = ownThreadIds()): ReniceResult {
  let reniced = 0;
  let unchanged = 0;
  let failed = 0;
  if (nice <= 0) return { nice, reniced, unchanged, failed };
  for (const tid of tids) {
    try {
      if (getPriority(tid) >= nice) unchanged += 1;
      else {
        setPriority(tid, nice);
        reniced += 1;
      }
    } catch (err) {
      // The thread may have ended between the listing and the call (ESRCH); anything else is logged.
      if (!isNoSuchThread(err)) {
        failed += 1;
        logger.warn({ event: 'priority.failed', tid, nice, err }, `could not renice thread ${tid}`);
      }
    }
  }
  logger.info(
    { event: 'priority.lowered', nice, reniced, unchanged, failed },
    `running at nice ${nice} (${reniced} thread(s) reniced)`,
  );
  return { nice, reniced, unchanged, failed };
}
