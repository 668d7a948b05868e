import { splitLines } from './lines.js';
import type { ParsedItem, ParseOptions } from './types.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

function rawText(bytes: Buffer, limit: number): string {
  return bytes.subarray(0, limit).toString('utf8');
}

/** Parses a JSON Lines byte stream. Blank lines are skipped; every other line yields one item. */
export async function* parseJsonl(
  source: AsyncIterable<Buffer>,
  opts: ParseOptions,
): AsyncGenerator<ParsedItem> {
  for await (const l of splitLines(source, { ...opts, skipBlank: true })) {
    if (l.bytes === null) {
      yield {
        kind: 'error',
        line: l.line,
        offset: l.offset,
        code: 'LINE_TOO_LONG',
        message: `line ${l.line} is ${l.length} bytes, over landing.maxLineBytes (${opts.maxLineBytes})`,
        raw: l.prefix ? rawText(l.prefix, opts.rawBytes) : '',
      };
      continue;
    }
    let bytes = l.bytes;
    if (l.line === 1 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      bytes = bytes.subarray(3);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      yield {
        kind: 'error',
        line: l.line,
        offset: l.offset,
        code: 'INVALID_UTF8',
        message: `line ${l.line} is not valid UTF-8`,
        raw: bytes.subarray(0, opts.rawBytes).toString('latin1'),
      };
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield {
        kind: 'error',
        line: l.line,
        offset: l.offset,
        code: 'MALFORMED_JSON',
        message: `line ${l.line}: ${(e as Error).message}`,
        raw: rawText(bytes, opts.rawBytes),
      };
      continue;
    }
    // The decoded text doubles as the raw copy when it is short enough (no second decode per record).
    yield {
      kind: 'value',
      line: l.line,
      offset: l.offset,
      value,
      raw: bytes.length <= opts.rawBytes ? text : rawText(bytes, opts.rawBytes),
    };
  }
}
