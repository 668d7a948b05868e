import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from '../../../src/landing/parse/csv.js';
import type { ParsedItem } from '../../../src/landing/parse/types.js';

const opts = { maxLineBytes: 1024, rawBytes: 64 };

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield await Promise.resolve(buf.subarray(i, i + size));
}

async function parse(input: string | Buffer, size = 1 << 16, o = opts): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const it of parseCsv(chunks(Buffer.isBuffer(input) ? input : Buffer.from(input), size), o))
    out.push(it);
  return out;
}

const values = (items: ParsedItem[]): Record<string, unknown>[] =>
  items.filter((i) => i.kind === 'value').map((i) => ({ ...(i.value as object) }));

describe('csv parser', () => {
  it('reads a header and typed-as-text rows; empty unquoted cell is absent, "" is the empty string', async () => {
    const items = await parse('id,text,n\na,hello,1\nb,"",\n');
    assert.deepEqual(values(items), [
      { id: 'a', text: 'hello', n: '1' },
      { id: 'b', text: '' },
    ]);
    assert.ok(items.every((i) => i.kind === 'value' && i.text === true));
  });

  it('handles RFC 4180 quoting: commas, doubled quotes and newlines inside quotes; line = first line of the record', async () => {
    const input = 'id,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"multi\r\nline\nvalue"\r\n4,last\r\n';
    const items = await parse(input);
    assert.deepEqual(values(items), [
      { id: '1', text: 'a, b' },
      { id: '2', text: 'say "hi"' },
      { id: '3', text: 'multi\r\nline\nvalue' },
      { id: '4', text: 'last' },
    ]);
    assert.deepEqual(
      items.map((i) => i.line),
      [2, 3, 4, 7],
    );
    // Offsets point at the first byte of each record.
    for (const it of items)
      assert.ok(input.slice(it.offset).startsWith(String((it as { value: { id: string } }).value.id)));
  });

  it('gives identical results whatever the chunk boundaries (byte by byte)', async () => {
    const input = '\uFEFFid,text\r\n1,"x\r\n""y"""\r\n\r\n2,z\n3,"é ü"\n';
    const whole = await parse(input);
    const tiny = await parse(input, 1);
    assert.deepEqual(tiny, whole);
    assert.equal(values(whole).length, 3);
    assert.deepEqual(Object.keys(values(whole)[0]!), ['id', 'text'], 'BOM is stripped from the first header');
  });

  it('skips blank lines (also CRLF and whitespace-only) and a file of blank lines yields nothing', async () => {
    assert.deepEqual(values(await parse('id,text\n\n\r\n  \n1,a\n\n')), [{ id: '1', text: 'a' }]);
    assert.deepEqual(await parse('\n\n\r\n   \n'), []);
    assert.deepEqual(await parse(''), []);
  });

  it('last record without a trailing newline is read', async () => {
    assert.deepEqual(values(await parse('id,text\n1,a')), [{ id: '1', text: 'a' }]);
  });

  it('reports malformed rows with a specific code and keeps going', async () => {
    const items = await parse('id,text\n1,a,extra\n2,ab"c\n3,"ab"c\n4,ok\n');
    const errs = items.filter((i) => i.kind === 'error');
    assert.deepEqual(
      errs.map((e) => [e.line, e.kind === 'error' && e.code]),
      [
        [2, 'CSV_MALFORMED'],
        [3, 'CSV_MALFORMED'],
        [4, 'CSV_MALFORMED'],
      ],
    );
    assert.match((errs[0] as { message: string }).message, /3 field\(s\), the header has 2/);
    assert.deepEqual(values(items), [{ id: '4', text: 'ok' }]);
  });

  it('an unterminated quote swallows the rest of the file as one malformed record', async () => {
    const items = await parse('id,text\n1,ok\n2,"never closed\n3,x\n');
    assert.equal(items.length, 2);
    const e = items[1]!;
    assert.equal(e.kind === 'error' && e.code, 'CSV_MALFORMED');
    assert.match((e as { message: string }).message, /unterminated quoted field opened on line 3/);
  });

  it('invalid UTF-8 in a cell quarantines that row only, naming the column', async () => {
    const buf = Buffer.concat([
      Buffer.from('id,text\n1,'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n2,fine\n'),
    ]);
    const items = await parse(buf);
    assert.equal(items[0]!.kind === 'error' && items[0]!.code, 'INVALID_UTF8');
    assert.match((items[0] as { message: string }).message, /column "text"/);
    assert.deepEqual(values(items), [{ id: '2', text: 'fine' }]);
  });

  it('a record over maxLineBytes is LINE_TOO_LONG (quotes still tracked), the next record is fine', async () => {
    const big = 'x'.repeat(2000);
    const items = await parse(`id,text\n1,"${big}\n${big}"\n2,ok\n`, 100);
    assert.equal(items[0]!.kind === 'error' && items[0]!.code, 'LINE_TOO_LONG');
    assert.ok(items[0]!.raw.length <= 64 && items[0]!.raw.length > 0);
    assert.deepEqual(values(items), [{ id: '2', text: 'ok' }]);
  });

  it('a bad header (duplicate or empty column) quarantines every row with CSV_BAD_HEADER', async () => {
    const items = await parse('id,id\n1,2\n3,4\n');
    assert.deepEqual(
      items.map((i) => i.kind === 'error' && i.code),
      ['CSV_BAD_HEADER', 'CSV_BAD_HEADER'],
    );
    const items2 = await parse('id,,text\n1,2,3\n');
    assert.equal(items2[0]!.kind === 'error' && items2[0]!.code, 'CSV_BAD_HEADER');
  });

  it('a __proto__ column is an own key of a null-prototype row and never touches a prototype', async () => {
    const items = await parse('id,__proto__,constructor\n1,"{""polluted"":1}",x\n');
    const v = (items[0] as { value: Record<string, unknown> }).value;
    assert.equal(Object.getPrototypeOf(v), null);
    assert.deepEqual(Object.keys(v), ['id', '__proto__', 'constructor']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
