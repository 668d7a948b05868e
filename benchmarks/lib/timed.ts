import { performance } from 'node:perf_hooks';

/** Methods in flight right now (timed() calls nest): what a stall detector blames. */
export const inFlight: string[] = [];

/**
 * Records event-loop stalls (a 10 ms ticker that fired late by more than thresholdMs) with the timed
 * method that was in flight, to say which step blocks the loop. stop() returns the worst stall per culprit.
 */
export function stallDetector(thresholdMs = 40): { stop(): Record<string, number> } {
  const worst: Record<string, number> = {};
  let last = performance.now();
  const t = setInterval(() => {
    const nowMs = performance.now();
    const late = nowMs - last - 10;
    last = nowMs;
    if (late > thresholdMs) {
      const who = inFlight.length ? inFlight.join('>') : 'outside timed calls';
      worst[who] = Math.max(worst[who] ?? 0, Math.round(late));
    }
  }, 10);
  t.unref();
  return {
    stop: () => {
      clearInterval(t);
      return worst;
    },
  };
}

/** Cumulative wall time (ms) and call count per method name. */
export type Timings = Record<string, { ms: number; calls: number }>;

/**
 * Wraps an object so the named async methods are timed (ms, calls), everything else passes through.
 * A Proxy rather than a hand-written decorator so it keeps working when the port grows methods.
 */
export function timed<T extends object>(
  target: T,
  methods: readonly string[],
  into: Timings,
  onCall?: (method: string, args: unknown[]) => void,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v: unknown = Reflect.get(obj, prop, receiver);
      if (typeof prop !== 'string' || !methods.includes(prop) || typeof v !== 'function')
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
      return async (...args: unknown[]) => {
        onCall?.(prop, args);
        const s = performance.now();
        inFlight.push(prop);
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } finally {
          inFlight.splice(inFlight.lastIndexOf(prop), 1);
          const t = (into[prop] ??= { ms: 0, calls: 0 });
          t.ms += performance.now() - s;
          t.calls += 1;
        }
      };
    },
  });
}
