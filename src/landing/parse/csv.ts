import { LimitExceeded, type ParsedItem, type ParseOptions } from './types.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte buffer (avoids one Buffer per byte of a field). */
class Bytes {
  buf = Buffer.allocUnsafe(256);
  len = 0;
  push(b: number): void {
    if (this.len === this.buf.length) {
      const next = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  pushRange(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    src.copy(this.buf, this.len, from, to);
    this.len += n;
  }
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
  reset(): void {
    this.len = 0;
    // Do not keep a huge buffer around after one big record (bounded memory).
    if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(256);
  }
}

type State = 'start' | 'unquoted' | 'quoted' | 'quote-in-quoted' | 'after-quoted' | 'skip';

interface RawRecord {
  readonly line: number;
  readonly offset: number;
  readonly fields: Buffer[];
  readonly quoted: boolean[];
  readonly raw: Buffer;
  readonly length: number;
  /** Set when the record is unusable; fields are then meaningless. */
  readonly error: { code: 'CSV_MALFORMED' | 'LINE_TOO_LONG'; message: string } | null;
}

/**
 * Splits an RFC 4180 byte stream into records: comma separator, double-quote quoting with "" as an
 * escaped quote, CRLF or LF record ends, newlines allowed inside quoted fields. Works on bytes (all
 * structural characters are ASCII, so UTF-8 is never split wrongly); fields are decoded later.
 * At most maxLineBytes of one record are buffered; longer records are reported as LINE_TOO_LONG.
 */
export async function* splitCsvRecords(
  source: AsyncIterable<Buffer>,
  opts: ParseOptions,
): AsyncGenerator<RawRecord> {
  let state: State = 'start';
  const field = new Bytes();
  const raw = new Bytes();
  let fields: Buffer[] = [];
  let quoted: boolean[] = [];
  let fieldQuoted = false;
  let recLen = 0;
  let tooLong = false;
  let error: RawRecord['error'] = null;
  let line = 1;
  let recLine = 1;
  let recOffset = 0;
  let pos = 0;
  let quoteOpenLine = 0;

  const endField = (): void => {
    if (tooLong || error) {
      field.reset();
      return;
    }
    fields.push(field.take());
    quoted.push(fieldQuoted);
    fieldQuoted = false;
  };
  const endRecord = (): RawRecord => {
    endField();
    let fs = fields;
    // A lone trailing CR of an unquoted last field is the CR of a CRLF ending.
    const last = fs.length - 1;
    if (last >= 0 && !quoted[last] && fs[last]!.length > 0 && fs[last]![fs[last]!.length - 1] === CR)
      fs[last] = fs[last]!.subarray(0, fs[last]!.length - 1);
    const rec: RawRecord = {
      line: recLine,
      offset: recOffset,
      fields: fs,
      quoted,
      raw: raw.take(),
      length: recLen,
      error: tooLong
        ? {
            code: 'LINE_TOO_LONG',
            message: `record is ${recLen} bytes, over landing.maxLineBytes (${opts.maxLineBytes})`,
          }
        : error,
    };
    fs = [];
    fields = [];
    quoted = [];
    fieldQuoted = false;
    recLen = 0;
    tooLong = false;
    error = null;
    raw.reset();
    field.reset();
    state = 'start';
    return rec;
  };
  const malformed = (message: string): void => {
    if (!error && !tooLong) error = { code: 'CSV_MALFORMED', message };
    state = 'skip';
  };

  for await (const chunk of source) {
    opts.signal?.throwIfAborted();
    const out: RawRecord[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (recLen === 0 && state === 'start' && fields.length === 0) {
        recLine = line;
        recOffset = pos + i;
      }
      // Fast path: copy a run of plain bytes of an unquoted or quoted field in one go.
      if (state === 'unquoted' || state === 'quoted') {
        let j = i;
        if (state === 'unquoted')
          while (j < n && chunk[j] !== COMMA && chunk[j] !== LF && chunk[j] !== QUOTE) j++;
        else while (j < n && chunk[j] !== QUOTE && chunk[j] !== LF) j++;
        if (j > i) {
          recLen += j - i;
          if (!tooLong && recLen > opts.maxLineBytes) tooLong = true;
          if (!tooLong && !error) field.pushRange(chunk, i, j);
          if (raw.len < opts.rawBytes) raw.pushRange(chunk, i, Math.min(j, i + (opts.rawBytes - raw.len)));
          i = j;
          continue;
        }
      }
      const b = chunk[i]!;
      i++;
      if (b === LF) line++;
      const isRecordEnd = b === LF && state !== 'quoted';
      if (!isRecordEnd) {
        recLen++;
        if (!tooLong && recLen > opts.maxLineBytes) tooLong = true;
        if (raw.len < opts.rawBytes) raw.push(b);
      }
      switch (state as State) {
        case 'start':
          if (b === QUOTE) {
            state = 'quoted';
            fieldQuoted = true;
            quoteOpenLine = line;
          } else if (b === COMMA) endField();
          else if (b === LF) out.push(endRecord());
          else {
            state = 'unquoted';
            if (!tooLong && !error) field.push(b);
          }
          break;
        case 'unquoted':
          if (b === COMMA) {
            endField();
            state = 'start';
          } else if (b === LF) out.push(endRecord());
          else if (b === QUOTE)
            malformed(
              `a double quote inside an unquoted field (field ${fields.length + 1}); quote the whole field and double the quote`,
            );
          else if (!tooLong && !error) field.push(b);
          break;
        case 'quoted':
          if (b === QUOTE) state = 'quote-in-quoted';
          else if (!tooLong && !error) field.push(b);
          break;
        case 'quote-in-quoted':
          if (b === QUOTE) {
            if (!tooLong && !error) field.push(QUOTE);
            state = 'quoted';
          } else if (b === COMMA) {
            endField();
            state = 'start';
          } else if (b === LF) out.push(endRecord());
          else if (b === CR) state = 'after-quoted';
          else malformed(`unexpected character after the closing quote of field ${fields.length + 1}`);
          break;
        case 'after-quoted':
          // Only reached after `"` + CR: a record end must follow.
          if (b === LF) out.push(endRecord());
          else malformed(`unexpected character after the closing quote of field ${fields.length + 1}`);
          break;
        case 'skip':
          if (b === LF) out.push(endRecord());
          break;
      }
    }
    pos += n;
    if (opts.maxLines !== undefined && line - 1 > opts.maxLines)
      throw new LimitExceeded(
        'TOO_MANY_LINES',
        `the file has more than ${opts.maxLines} lines (landing.maxLines, blank lines included)`,
      );
    for (const r of out) yield r;
  }
  if (state === 'quoted') {
    error = {
      code: 'CSV_MALFORMED',
      message: `unterminated quoted field opened on line ${quoteOpenLine} (the file ends inside quotes)`,
    };
    tooLong = false;
    yield endRecord();
  } else if (recLen > 0 || fields.length > 0) yield endRecord();
}

function decodeField(b: Buffer): string | null {
  try {
    return decoder.decode(b);
  } catch {
    return null;
  }
}

const isBlank = (r: RawRecord): boolean =>
  r.error === null && r.fields.length === 1 && !r.quoted[0] && r.fields[0]!.toString('latin1').trim() === '';

/**
 * Parses CSV with a header row into records whose values are strings (empty unquoted cell → absent).
 * Typing is the contract's job (see contract/csv.ts): nothing here guesses numbers or booleans.
 * Rows are built on null-prototype objects, so a `__proto__` column is an ordinary key the
 * contract can see and reject.
 */
export async function* parseCsv(
  source: AsyncIterable<Buffer>,
  opts: ParseOptions,
): AsyncGenerator<ParsedItem> {
  let header: string[] | null = null;
  let headerError: string | null = null;
  for await (const r of splitCsvRecords(source, opts)) {
    const rawText = r.raw.toString('utf8');
    if (r.error) {
      yield {
        kind: 'error',
        line: r.line,
        offset: r.offset,
        code: r.error.code,
        message: `line ${r.line}: ${r.error.message}`,
        raw: rawText,
      };
      continue;
    }
    if (isBlank(r)) continue;
    const values: string[] = [];
    let bad = -1;
    for (let k = 0; k < r.fields.length; k++) {
      const v = decodeField(r.fields[k]!);
      if (v === null) {
        bad = k;
        break;
      }
      values.push(v);
    }
    if (header === null) {
      if (bad >= 0) headerError = `header column ${bad + 1} is not valid UTF-8`;
      else {
        const seen = new Set<string>();
        for (const [k, h] of values.entries()) {
          const name = (k === 0 ? h.replace(/^\uFEFF/, '') : h).trim();
          if (name === '') headerError = `header column ${k + 1} is empty`;
          else if (seen.has(name)) headerError = `header column "${name}" appears twice`;
          seen.add(name);
        }
      }
      header = values.map((h, k) => (k === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
      continue;
    }
    if (headerError !== null) {
      yield {
        kind: 'error',
        line: r.line,
        offset: r.offset,
        code: 'CSV_BAD_HEADER',
        message: `line ${r.line}: the header row is unusable (${headerError}); no record of this file can be read`,
        raw: rawText,
      };
      continue;
    }
    if (bad >= 0) {
      yield {
        kind: 'error',
        line: r.line,
        offset: r.offset,
        code: 'INVALID_UTF8',
        message: `line ${r.line}: column "${header[bad] ?? bad + 1}" is not valid UTF-8`,
        raw: r.raw.toString('latin1'),
      };
      continue;
    }
    if (values.length !== header.length) {
      yield {
        kind: 'error',
        line: r.line,
        offset: r.offset,
        code: 'CSV_MALFORMED',
        message: `line ${r.line}: ${values.length} field(s), the header has ${header.length}`,
        raw: rawText,
      };
      continue;
    }
    const row = Object.create(null) as Record<string, string>;
    for (let k = 0; k < header.length; k++) {
      // An empty unquoted cell is "no value"; a quoted empty cell ("") is the empty string.
      if (values[k] === '' && !r.quoted[k]) continue;
      Object.defineProperty(row, header[k]!, {
        value: values[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    yield { kind: 'value', line: r.line, offset: r.offset, value: row, raw: rawText, text: true };
  }
}
