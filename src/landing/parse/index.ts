import { constants, createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parseCsv } from './csv.js';
import { parseJsonl } from './jsonl.js';
import {
  LimitExceeded,
  type LandingFormat,
  type LimitCode,
  type ParsedItem,
  type ParseOptions,
} from './types.js';

/** The landing format of a file name, or null when the name is not a landing file. */
export function formatOf(name: string): LandingFormat | null {
  if (name.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (name.endsWith('.jsonl')) return 'jsonl';
  if (name.endsWith('.csv')) return 'csv';
  return null;
}

/** Opens a file for reading without following a symlink in its last component (I10, race-safe). */
export function openNoFollow(
  file: string,
  range?: { readonly start: number; readonly end: number },
): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  return createReadStream(file, {
    ...(range ? { start: range.start, end: range.end - 1 } : {}),
    highWaterMark: 64 * 1024,
    flags: (constants.O_RDONLY | constants.O_NOFOLLOW) as unknown as string,
  });
  // (fs.open accepts numeric flags; the typings only list strings.)
}

/** Stream-level failure codes: the input could not be read to its end. */
export const STREAM_FAILURE_CODES = new Set([
  'TRUNCATED_INPUT',
  'CORRUPT_INPUT',
  'READ_FAILED',
  'FILE_TOO_LARGE',
  'TOO_MANY_LINES',
]);

function failureOf(
  e: unknown,
  bytes: number,
): { code: 'TRUNCATED_INPUT' | 'CORRUPT_INPUT' | 'READ_FAILED' | LimitCode; message: string } {
  if (e instanceof LimitExceeded)
    return { code: e.code, message: `${e.message}; refused after ${bytes} bytes` };
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR')
    return {
      code: 'TRUNCATED_INPUT',
      message: `the gzip stream ends early (truncated) after ${bytes} decompressed bytes: ${err.message}`,
    };
  if (typeof err.code === 'string' && err.code.startsWith('Z_'))
    return {
      code: 'CORRUPT_INPUT',
      message: `the gzip stream is corrupt after ${bytes} decompressed bytes: ${err.message}`,
    };
  return { code: 'READ_FAILED', message: `reading failed after ${bytes} bytes: ${err.message}` };
}

/**
 * Runs a parser over a byte stream; a stream error (truncated or corrupt gzip, I/O error) ends the
 * file with one error item standing for the unreadable tail (the partial record it cut is not
 * parsed). Everything parsed before the failure is still yielded, so it is accounted for.
 */
async function* guarded(
  source: AsyncIterable<Buffer>,
  inner: (s: AsyncIterable<Buffer>) => AsyncGenerator<ParsedItem>,
  opts: ParseOptions,
  base = 0,
): AsyncGenerator<ParsedItem> {
  let bytes = 0;
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const c of source) {
      bytes += c.length;
      if (bytes > maxBytes)
        throw new LimitExceeded(
          'FILE_TOO_LARGE',
          `the file inflates to more than ${maxBytes} bytes (landing.maxInflatedBytes)`,
        );
      yield c;
    }
  }
  let lastLine = 0;
  try {
    for await (const item of inner(counted())) {
      lastLine = Math.max(lastLine, item.line);
      yield base === 0 ? item : { ...item, offset: item.offset + base };
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    const f = failureOf(e, bytes);
    yield {
      kind: 'error',
      line: lastLine + 1,
      offset: base + bytes,
      code: f.code,
      message: f.message,
      raw: '',
    };
  }
}

/** Streams the records of a landing file with bounded memory (64 KiB reads, one record at a time). */
export function parseFile(
  file: string,
  format: LandingFormat,
  opts: ParseOptions,
  range?: { readonly start: number; readonly end: number },
): AsyncGenerator<ParsedItem> {
  // A range reads a continuation (bytes appended after landing) of an uncompressed file; its line
  // numbers count from the first byte of the range, its offsets are absolute.
  const stream = openNoFollow(file, range);
  const base = range?.start ?? 0;
  switch (format) {
    case 'jsonl':
      return guarded(stream, (s) => parseJsonl(s, opts), opts, base);
    case 'jsonl.gz': {
      // pipeline() propagates an error of either side and destroys both (no leaked fd, no hang).
      const gunzip = pipeline(stream, createGunzip(), () => undefined);
      return guarded(gunzip, (s) => parseJsonl(s, opts), opts);
    }
    case 'csv':
      return guarded(stream, (s) => parseCsv(s, opts), opts, base);
  }
}
