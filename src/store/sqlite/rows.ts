/** The store-neutral row mapping lives in src/store/rows.ts; the SQLite adapters import it from here. */
export * from '../rows.js';

/** File states whose records are published (visible to the processor). */
export const VISIBLE = `('verified','unverified')`;

/** The columns of a bronze event (bronze `b` joined with files `f` for the path). */
export const EVENT_COLS = `b.seq, b.file_id, f.path, b.line, b.byte_offset, b.record_id, b.version, b.event_time, b.event_time_ms, b.op, b.text, b.metadata_json, b.landed_at_ms`;

/**
 * Runs a synchronous better-sqlite3 operation as a port call: the result (or the error, as a rejection)
 * in a settled promise. The work itself runs now, on the caller's tick (SQLite has no I/O to overlap).
 */
export function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** A synchronous page generator as the async iterable a port returns (each page read when asked for). */
export function asyncPages<T>(pages: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = pages[Symbol.iterator]();
      return {
        next: () => run(() => it.next()),
        return: (): Promise<IteratorResult<T>> =>
          run(() => it.return?.() ?? ({ done: true, value: undefined } as IteratorResult<T>)),
      };
    },
  };
}
