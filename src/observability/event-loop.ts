import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop delay over an interval, in ms (what a search or /healthz waited at worst behind other work). */
export interface EventLoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samples: number;
}

/**
 * Samples the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution);
 * take() returns the figures since the previous take() and starts a new interval. The daemon logs
 * them (event `eventloop.delay`) so a benchmark can read the delay during a backfill from outside.
 */
export class EventLoopMonitor {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.h.enable();
  }

  take(): EventLoopDelay {
    const ms = (ns: number): number => Math.round((ns / 1e6) * 10) / 10;
    const out: EventLoopDelay = {
      p50Ms: this.h.count ? ms(this.h.percentile(50)) : 0,
      p99Ms: this.h.count ? ms(this.h.percentile(99)) : 0,
      maxMs: this.h.count ? ms(this.h.max) : 0,
      samples: this.h.count,
    };
    this.h.reset();
    return out;
  }

  close(): void {
    this.h.disable();
  }
}
