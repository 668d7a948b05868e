import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonl } from '../../../src/landing/parse/jsonl.js';
import type { ParsedItem } from '../../../src/landing/parse/types.js';

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield await Promise.resolve(buf.subarray(i, i + size));
}

async function parse(input: string | Buffer, size = 1 << 16, maxLineBytes = 1024): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const it of parseJsonl(chunks(Buffer.isBuffer(input) ? input : Buffer.from(input), size), {
    maxLineBytes,
    rawBytes: 32,
  }))
    out.push(it);
  return out;
}

describe('jsonl parser', () => {
  it('strips a BOM, handles CRLF, skips blank lines, keeps line numbers and byte offsets', async () => {
    const input = '\uFEFF{"a":1}\r\n\r\n   \n{"a":2}\n{"a":3}';
    const items = await parse(input);
    assert.deepEqual(
      items.map((i) => [i.kind, i.line]),
      [
        ['value', 1],
        ['value', 4],
        ['value', 5],
      ],
    );
    const buf = Buffer.from(input);
    assert.equal(buf.subarray(items[1]!.offset, items[1]!.offset + 7).toString(), '{"a":2}');
    assert.deepEqual(await parse(input, 1), items, 'same result for any chunking');
  });

  it('a file of blank lines and an empty file yield nothing', async () => {
    assert.deepEqual(await parse('\n\n\r\n \t \n'), []);
    assert.deepEqual(await parse(''), []);
  });

  it('malformed JSON and invalid UTF-8 are line-level errors with specific codes', async () => {
    const buf = Buffer.concat([
      Buffer.from('{"a":\n'),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from('{"ok":true}\n'),
    ]);
    const items = await parse(buf);
    assert.deepEqual(
      items.map((i) => (i.kind === 'error' ? i.code : 'value')),
      ['MALFORMED_JSON', 'INVALID_UTF8', 'value'],
    );
  });

  it('a line over maxLineBytes is LINE_TOO_LONG with a raw prefix; memory holds at most the limit', async () => {
    const big = `{"t":"${'x'.repeat(5000)}"}`;
    const items = await parse(`${big}\n{"a":1}\n`, 100);
    assert.equal(items[0]!.kind === 'error' && items[0]!.code, 'LINE_TOO_LONG');
    assert.equal(items[0]!.raw, big.slice(0, 32));
    assert.match((items[0] as { message: string }).message, /5008 bytes, over landing.maxLineBytes \(1024\)/);
    assert.equal(items[1]!.kind, 'value');
  });

  it('JSON.parse keeps __proto__ as an own key: no prototype changes', async () => {
    const items = await parse('{"__proto__":{"polluted":true},"id":"x"}\n');
    const v = (items[0] as { value: object }).value;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.ok(Object.prototype.hasOwnProperty.call(v, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
