import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

/** Samples process RSS (main thread + worker threads + native allocations) and keeps the peak. */
export class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | null = null;

  start(everyMs = 25): this {
    this.peak = process.memoryUsage.rss();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const r = process.memoryUsage.rss();
    if (r > this.peak) this.peak = r;
  }

  /** Stops sampling; returns the peak in MiB. */
  stop(): number {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.peak / (1024 * 1024);
  }
}

/** Maximum event-loop delay in ms over a window (perf_hooks monitorEventLoopDelay, 10 ms resolution). */
export class LoopLag {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): this {
    this.h.enable();
    return this;
  }

  stop(): { maxMs: number; p99Ms: number; meanMs: number } {
    this.h.disable();
    return { maxMs: this.h.max / 1e6, p99Ms: this.h.percentile(99) / 1e6, meanMs: this.h.mean / 1e6 };
  }
}

export const now = (): number => performance.now();

/** Percentile (nearest rank) of a list of numbers; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
