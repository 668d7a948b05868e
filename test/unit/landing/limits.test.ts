import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseFile } from '../../../src/landing/parse/index.js';
import type { ParsedItem, ParseOptions } from '../../../src/landing/parse/types.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seamline-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function items(file: string, format: 'jsonl' | 'jsonl.gz' | 'csv', opts: Partial<ParseOptions> = {}) {
  const out: ParsedItem[] = [];
  for await (const it of parseFile(file, format, { maxLineBytes: 1024, rawBytes: 64, ...opts })) out.push(it);
  return out;
}

describe('per-file limits and blank lines', () => {
  it('blank lines cost no item and keep line numbers and offsets exact, across 64 KiB reads', async () => {
    const blank = '\n'.repeat(200_000) + ' \r\n\t\n';
    const body = `${blank}{"a":1}\n${blank}{"a":2}\n`;
    const f = path.join(dir, 'blank.jsonl.gz');
    writeFileSync(f, gzipSync(body));
    const got = await items(f, 'jsonl.gz');
    assert.deepEqual(
      got.map((i) => [i.kind, i.line]),
      [
        ['value', 200_003],
        ['value', 400_006],
      ],
    );
    const buf = Buffer.from(body);
    assert.equal(buf.subarray(got[1]!.offset, got[1]!.offset + 7).toString(), '{"a":2}');
  });

  it('more lines than maxLines (blank ones count): one TOO_MANY_LINES stream failure', async () => {
    const f = path.join(dir, 'many.jsonl.gz');
    writeFileSync(f, gzipSync('{"a":1}\n' + '\n'.repeat(1000)));
    const got = await items(f, 'jsonl.gz', { maxLines: 500 });
    assert.deepEqual(
      got.map((i) => [i.kind, i.kind === 'error' ? i.code : null]),
      [
        ['value', null],
        ['error', 'TOO_MANY_LINES'],
      ],
    );
    // Exactly at the limit is fine, with or without a final newline.
    writeFileSync(path.join(dir, 'exact.jsonl'), '{"a":1}\n{"a":2}\n');
    assert.equal((await items(path.join(dir, 'exact.jsonl'), 'jsonl', { maxLines: 2 })).length, 2);
    writeFileSync(path.join(dir, 'exact2.jsonl'), '{"a":1}\n{"a":2}');
    assert.equal((await items(path.join(dir, 'exact2.jsonl'), 'jsonl', { maxLines: 2 })).length, 2);
    const csv = path.join(dir, 'many.csv');
    writeFileSync(csv, 'id,text\n' + 'x,y\n'.repeat(70_000));
    const c = await items(csv, 'csv', { maxLines: 1000 });
    const last = c.at(-1);
    assert.equal(last?.kind === 'error' ? last.code : null, 'TOO_MANY_LINES');
  });

  it('more inflated bytes than maxBytes: one FILE_TOO_LARGE stream failure (a gzip bomb stops early)', async () => {
    const f = path.join(dir, 'bomb.jsonl.gz');
    writeFileSync(f, gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x0a)));
    const got = await items(f, 'jsonl.gz', { maxBytes: 1024 * 1024 });
    assert.equal(got.length, 1);
    assert.equal(got[0]!.kind === 'error' && got[0]!.code, 'FILE_TOO_LARGE');
    assert.match(got[0]!.kind === 'error' ? got[0]!.message : '', /landing\.maxInflatedBytes/);
  });

  it('a byte range (continuation) reads only the tail, with absolute offsets', async () => {
    const head = '{"a":1}\n';
    const f = path.join(dir, 'grown.jsonl');
    writeFileSync(f, `${head}{"a":2}\n{"a":3}\n`);
    const got = [];
    for await (const it of parseFile(
      f,
      'jsonl',
      { maxLineBytes: 1024, rawBytes: 64 },
      { start: head.length, end: head.length + 16 },
    ))
      got.push(it);
    assert.deepEqual(
      got.map((i) => [i.kind === 'value' ? i.value : null, i.line, i.offset]),
      [
        [{ a: 2 }, 1, 8],
        [{ a: 3 }, 2, 16],
      ],
    );
  });
});
