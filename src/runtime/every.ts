import type { Clock } from '../ports/clock.js';

/**
 * Calls `fn` every `ms` (after each wait) on the injected clock until `signal` aborts. The returned
 * promise never rejects: `fn` handles its own errors, and one that escapes goes to `onError`.
 */
export async function every(
  clock: Clock,
  ms: number,
  signal: AbortSignal,
  fn: () => Promise<void> | void,
  onError: (e: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    await clock.sleep(ms, signal);
    if (signal.aborted) return;
    try {
      await fn();
    } catch (e) {
      onError(e);
    }
  }
}
