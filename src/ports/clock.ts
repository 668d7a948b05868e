/**
 * Injected time source. Pure code takes `nowMs`; services and adapters take a Clock and wait through
 * `sleep`, so every wait (lease renewal, backoff, polling, pacing) runs on a fake clock in unit tests.
 */
export interface Clock {
  readonly nowMs: () => number;
  /**
   * Resolves after `ms`, or as soon as `signal` aborts (it never rejects: callers check
   * `signal.aborted` afterwards). A non-positive `ms` resolves on the next turn.
   */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Wall-clock time and real timers. A pending sleep keeps the process alive (like timers/promises):
 * background loops on it must be stopped through their signal when their owner closes.
 */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms, signal) => {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};
