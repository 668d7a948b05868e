import { performance } from 'node:perf_hooks';

/** Cumulative wall time (ms) and call count per method name. */
export type Timings = Record<string, { ms: number; calls: number }>;

/**
 * Wraps an object so the named async methods are timed (ms, calls), everything else passes through.
 * A Proxy rather than a hand-written decorator so it keeps working when the port grows methods.
 */
export function timed<T extends object>(target: T, methods: readonly string[], into: Timings, onCall?: (method: string, args: unknown[]) => void): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v: unknown = Reflect.get(obj, prop, receiver);
      if (typeof prop !== 'string' || !methods.includes(prop) || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
      return async (...args: unknown[]) => {
        onCall?.(prop, args);
        const s = performance.now();
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } finally {
          const t = (into[prop] ??= { ms: 0, calls: 0 });
          t.ms += performance.now() - s;
          t.calls += 1;
        }
      };
    },
  });
}
