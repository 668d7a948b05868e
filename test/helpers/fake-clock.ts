import type { Clock } from '../../src/ports/clock.js';

interface Sleeper {
  readonly dueMs: number;
  readonly order: number;
  readonly resolve: () => void;
}

/** Lets every promise continuation queued so far run (sleeps re-armed by them get registered). */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A clock that only moves when told. Pending sleeps resolve in due order (ties in call order) as
 * `advance` passes their due time, with the continuations of each run before the next one is due:
 * a loop that sleeps, works and sleeps again behaves exactly as it would in real time.
 */
export class FakeClock implements Clock {
  private now: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const s: Sleeper = {
        dueMs: this.now + Math.max(0, ms),
        order: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', s.resolve);
          this.sleepers = this.sleepers.filter((x) => x !== s);
          resolve();
        },
      };
      this.sleepers.push(s);
      signal?.addEventListener('abort', s.resolve, { once: true });
    });
  }

  /** Number of sleeps waiting for time to pass. */
  pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking every sleep due on the way (in order). */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await flush();
    for (;;) {
      const next = [...this.sleepers].sort((a, b) => a.dueMs - b.dueMs || a.order - b.order)[0];
      if (!next || next.dueMs > target) break;
      this.now = Math.max(this.now, next.dueMs);
      next.resolve();
      await flush();
    }
    this.now = target;
    await flush();
  }

  /** Moves time in `stepMs` steps until `p` settles (at most `maxMs`); returns its value. */
  async run<T>(p: Promise<T>, stepMs = 10, maxMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (let t = 0; !settled; t += stepMs) {
      if (t > maxMs) throw new Error(`FakeClock.run: still pending after ${maxMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return watched;
  }
}
