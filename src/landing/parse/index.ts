import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parseJsonl } from './jsonl.js';
import type { LandingFormat, ParsedItem, ParseOptions } from './types.js';

/** The landing format of a file name, or null when the name is not a landing file. */
export function formatOf(name: string): LandingFormat | null {
  if (name.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (name.endsWith('.jsonl')) return 'jsonl';
  if (name.endsWith('.csv')) return 'csv';
  return null;
}

/** Wraps a stream so a stream error (e.g. truncated gzip) ends iteration with a TRUNCATED_INPUT item. */
async function* guarded(source: AsyncIterable<Buffer>, inner: (s: AsyncIterable<Buffer>) => AsyncGenerator<ParsedItem>): AsyncGenerator<ParsedItem> {
  let failure: Error | null = null;
  let offset = 0;
  async function* safe(): AsyncGenerator<Buffer> {
    try {
      for await (const c of source) {
        offset += c.length;
        yield c;
      }
    } catch (e) {
      failure = e as Error;
    }
  }
  let lastLine = 0;
  for await (const item of inner(safe())) {
    lastLine = item.line;
    yield item;
  }
  if (failure !== null) {
    yield { kind: 'error', line: lastLine + 1, offset, code: 'TRUNCATED_INPUT', message: `stream ended with an error after ${offset} bytes: ${(failure as Error).message}`, raw: '' };
  }
}

/** Streams the records of a landing file with bounded memory. */
export function parseFile(file: string, format: LandingFormat, opts: ParseOptions): AsyncGenerator<ParsedItem> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  switch (format) {
    case 'jsonl':
      return guarded(stream, (s) => parseJsonl(s, opts));
    case 'jsonl.gz':
      return guarded(stream.pipe(createGunzip()), (s) => parseJsonl(s, opts));
    case 'csv':
      throw new Error('csv parsing is not implemented yet');
  }
}
