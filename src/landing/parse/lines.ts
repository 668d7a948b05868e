import { LimitExceeded, type ParseOptions } from './types.js';

export interface RawLine {
  readonly line: number;
  readonly offset: number;
  /** Line bytes without the terminator (and without a trailing \r). null when over maxLineBytes. */
  readonly bytes: Buffer | null;
  readonly length: number;
  /** For an over-long line: its first rawBytes bytes (for the quarantine entry). */
  readonly prefix?: Buffer;
}

/**
 * Splits a byte stream into lines with 1-based numbers and byte offsets, holding at most
 * maxLineBytes of one line in memory (longer lines are reported with bytes = null).
 */
export async function* splitLines(
  source: AsyncIterable<Buffer>,
  opts: ParseOptions & { readonly skipBlank?: boolean },
): AsyncGenerator<RawLine> {
  const maxLines = opts.maxLines ?? Number.POSITIVE_INFINITY;
  const skipBlank = opts.skipBlank === true;
  let parts: Buffer[] = [];
  let partLen = 0;
  let tooLong = false;
  let prefix: Buffer | undefined;
  let lineLen = 0;
  let lineNo = 1;
  let lineStart = 0;
  let pos = 0;
  const finish = (): RawLine => {
    let bytes: Buffer | null = null;
    if (!tooLong) {
      bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partLen);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    }
    const out: RawLine = {
      line: lineNo,
      offset: lineStart,
      bytes,
      length: lineLen,
      ...(prefix ? { prefix } : {}),
    };
    parts = [];
    partLen = 0;
    tooLong = false;
    prefix = undefined;
    lineLen = 0;
    return out;
  };
  for await (const chunk of source) {
    opts.signal?.throwIfAborted();
    let start = 0;
    for (;;) {
      if (skipBlank && lineLen === 0) {
        // Blank lines (empty, or spaces/tabs/CR only) are counted and skipped without a yield or a
        // copy: a file of 200 MB of newlines costs one byte loop, not 200 M generator round trips.
        let j = start;
        let lineAt = start;
        while (j < chunk.length) {
          const b = chunk[j]!;
          if (b === 0x0a) {
            lineNo += 1;
            lineAt = j + 1;
          } else if (b !== 0x20 && b !== 0x09 && b !== 0x0d) break;
          j += 1;
        }
        if (lineNo - 1 > maxLines) throw tooManyLines(maxLines);
        if (lineAt > start) {
          lineStart = pos + lineAt;
          start = lineAt;
        }
        if (start >= chunk.length) break;
      }
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      lineLen += piece.length;
      if (!tooLong) {
        if (partLen + piece.length > opts.maxLineBytes) {
          tooLong = true;
          prefix = Buffer.from(
            Buffer.concat([...parts, piece.subarray(0, opts.rawBytes)]).subarray(0, opts.rawBytes),
          );
          parts = [];
          partLen = 0;
        } else if (piece.length > 0) {
          parts.push(Buffer.from(piece));
          partLen += piece.length;
        }
      }
      if (nl === -1) break;
      const out = finish();
      yield out;
      lineNo += 1;
      if (lineNo - 1 > maxLines) throw tooManyLines(maxLines);
      lineStart = pos + nl + 1;
      start = nl + 1;
    }
    pos += chunk.length;
  }
  if (lineLen > 0 || partLen > 0) {
    if (lineNo > maxLines) throw tooManyLines(maxLines);
    yield finish();
  }
}

const tooManyLines = (max: number): LimitExceeded =>
  new LimitExceeded(
    'TOO_MANY_LINES',
    `the file has more than ${max} lines (landing.maxLines, blank lines included)`,
  );
