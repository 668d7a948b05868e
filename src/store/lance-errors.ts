import { SeamlineError } from '../errors/errors.js';

const chainText = (e: unknown): string => {
  const parts: string[] = [];
  for (let c: unknown = e, i = 0; c && i < 5; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as { code?: unknown }).code;
    parts.push(
      c instanceof Error ? `${c.message}${typeof code === 'string' ? ` ${code}` : ''}` : JSON.stringify(c),
    );
  }
  return parts.join(' | ');
};

/**
 * Maps a LanceDB (or file system) error to a registry code with its retry verdict. LanceDB's JS errors
 * carry no codes, only the Rust message, so the message is matched here — in the adapter, once.
 */
export function classifyLanceError(e: unknown, what: string): SeamlineError {
  const text = chainText(e);
  if (/ENOSPC|No space left on device|os error 28|disk (is )?full/i.test(text))
    return new SeamlineError('DISK_FULL', `${what}: the disk holding the LanceDB folder is full: ${text}`, {
      cause: e,
    });
  if (e instanceof SeamlineError) return e;
  if (/commit conflict|preempted by concurrent|Please retry/i.test(text))
    return new SeamlineError('STORE_FAILED', `${what}: lost a commit race (retry): ${text}`, {
      cause: e,
      retryable: true,
      details: { conflict: true },
    });
  if (/corrupt|invalid (file|manifest)|not a valid lance/i.test(text))
    return new SeamlineError('STORE_FAILED', `${what}: the table looks corrupt: ${text}`, {
      cause: e,
      retryable: false,
    });
  // I/O errors (EIO, permissions flapping, object store hiccups) and the rest: retryable STORE_FAILED.
  return new SeamlineError('STORE_FAILED', `${what}: ${text}`, { cause: e });
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  typeof v === 'object' &&
  v !== null &&
  Symbol.asyncIterator in v &&
  typeof (v as { next?: unknown }).next === 'function';

function wrapIterator<T>(
  it: AsyncIterator<T> & AsyncIterable<T>,
  what: string,
): AsyncIterator<T> & AsyncIterable<T> {
  return {
    next: (...a: [] | [unknown]) =>
      it.next(...a).catch((e: unknown) => {
        throw classifyLanceError(e, what);
      }),
    return: (v?: unknown) => (it.return ? it.return(v) : Promise.resolve({ done: true, value: v as T })),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Wraps every method of a store adapter object so that whatever it throws or rejects with is
 * classified (DISK_FULL / STORE_FAILED with its retry verdict). Methods named in `children` return
 * adapter objects (tables) that get the same wrapping. Wrapping only: the adapter's code is unchanged.
 */
export function guardStoreObject<T extends object>(
  target: T,
  label: string,
  children: readonly string[] = [],
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string' || prop === 'constructor') return v;
      const what = `${label}.${prop}`;
      return (...args: unknown[]) => {
        let r: unknown;
        try {
          r = (v as (...a: unknown[]) => unknown).apply(obj, args);
        } catch (e) {
          throw classifyLanceError(e, what);
        }
        if (r instanceof Promise)
          return r.then(
            (x: unknown) =>
              children.includes(prop) && x !== null && typeof x === 'object'
                ? guardStoreObject(x, `table ${(x as { name?: string }).name ?? '?'}`)
                : x,
            (e: unknown) => {
              throw classifyLanceError(e, what);
            },
          );
        if (isAsyncIterable(r))
          return wrapIterator(r as AsyncIterator<unknown> & AsyncIterable<unknown>, what);
        return r;
      };
    },
  });
}
