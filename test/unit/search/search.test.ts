import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilterSpecs, parseWhere } from '../../../src/search/filter.js';
import { parseSearchRequest } from '../../../src/search/search.js';
import { compileFilters } from '../../../src/store/lance.js';
import { metadataColumnsOf } from '../../../src/store/metadata-columns.js';

const limits = { maxK: 100, maxQueryChars: 100 };
const meta = { lang: 'string', n: 'integer', ok: 'boolean', at: 'timestamp', tags: 'string[]' } as const;

describe('parseSearchRequest', () => {
  it('accepts a full request and applies defaults', () => {
    assert.deepEqual(parseSearchRequest({ query: 'q' }, limits), {
      query: 'q',
      k: 10,
      offset: 0,
      mode: 'hybrid',
      filters: [],
      granularity: 'document',
    });
    assert.equal(parseSearchRequest({ query: 'q' }, { ...limits, defaultMode: 'fts' }).mode, 'fts');
    const full = parseSearchRequest(
      {
        query: 'q',
        k: 5,
        offset: 20,
        granularity: 'chunk',
        passages: 2,
        weights: { vector: 1, fts: 3 },
        fusion: 'minmax',
      },
      { ...limits, maxWindow: 25 },
    );
    assert.deepEqual(
      [full.offset, full.granularity, full.passages, full.weights, full.fusion],
      [20, 'chunk', 2, { vector: 1, fts: 3 }, 'minmax'],
    );
    const r = parseSearchRequest(
      { query: 'q', k: 3, mode: 'hybrid', filters: [{ field: 'id', op: 'eq', value: 'a' }] },
      limits,
    );
    assert.equal(r.mode, 'hybrid');
    assert.equal(r.filters.length, 1);
  });
  it('rejects unknown fields and names them', () => {
    assert.throws(
      () => parseSearchRequest({ query: 'q', limit: 3, where: 'x' }, limits),
      /unknown field\(s\) in the request: "limit", "where"/,
    );
    assert.throws(
      () =>
        parseSearchRequest(
          { query: 'q', filters: [{ field: 'id', op: 'eq', value: 'a', sql: '1=1' }] },
          limits,
        ),
      /unknown field\(s\) in filters\[0\]: "sql"/,
    );
  });
  it('rejects bad k, mode, query', () => {
    assert.throws(() => parseSearchRequest({ query: 'q', k: 0 }, limits), /k must be/);
    assert.throws(() => parseSearchRequest({ query: 'q', k: 101 }, limits), /k must be/);
    assert.throws(() => parseSearchRequest({ query: 'q', mode: 'sql' }, limits), /mode must be/);
    assert.throws(() => parseSearchRequest({ query: '' }, limits), /query/);
    assert.throws(() => parseSearchRequest({ query: 'x'.repeat(101) }, limits), /longer than/);
    assert.throws(() => parseSearchRequest([], limits), /JSON object/);
    assert.throws(() => parseSearchRequest({ query: 'q', offset: -1 }, limits), /offset must be/);
    assert.throws(
      () => parseSearchRequest({ query: 'q', offset: 995, k: 10 }, { ...limits, maxWindow: 1000 }),
      /offset \+ k must be at most 1000/,
    );
    assert.throws(() => parseSearchRequest({ query: 'q', granularity: 'page' }, limits), /granularity/);
    assert.throws(() => parseSearchRequest({ query: 'q', passages: 9 }, limits), /passages/);
    assert.throws(() => parseSearchRequest({ query: 'q', fusion: 'max' }, limits), /fusion/);
    assert.throws(
      () => parseSearchRequest({ query: 'q', weights: { vector: 0, fts: 0 } }, limits),
      /weights/,
    );
    assert.throws(
      () => parseSearchRequest({ query: 'q', weights: { vector: -1, fts: 1 } }, limits),
      /weights/,
    );
    assert.throws(() => parseSearchRequest({ query: 'q', weights: { v: 1 } }, limits), /unknown field/);
  });
  it('a __proto__ key is an unknown field, not a prototype', () => {
    const body = JSON.parse('{"query":"q","__proto__":{"k":5}}') as unknown;
    assert.throws(() => parseSearchRequest(body, limits), /"__proto__"/);
  });
});

describe('filters', () => {
  it('allow-lists fields and ops', () => {
    assert.throws(
      () => compileFilterSpecs([{ field: 'text', op: 'eq', value: 'a' }], meta),
      /not filterable/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'metadata.tags', op: 'eq', value: 'a' }], meta),
      /not filterable/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'id', op: 'like' as never, value: 'a' }], meta),
      /unknown op/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'source_version', op: 'gt', value: '1 OR 1=1' }], meta),
      /finite number/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'metadata.ok', op: 'lt', value: true }], meta),
      /boolean/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'event_time', op: 'gt', value: '2024-01-01T00:00:00' }], meta),
      /no time zone/,
    );
  });
  it('an injection attempt is compiled as one quoted literal', () => {
    const c = compileFilterSpecs(
      [
        { field: 'id', op: 'eq', value: "x' OR 1=1 --" },
        { field: 'event_time', op: 'gte', value: '2024-01-01T00:00:00Z' },
      ],
      meta,
    );
    assert.equal(
      compileFilters(c.filters),
      "(`id` = 'x'' OR 1=1 --') AND (`event_time_ms` >= 1704067200000)",
    );
    const inList = compileFilterSpecs([{ field: 'file', op: 'in', value: ["a'b", 'c'] }], meta);
    assert.equal(compileFilters(inList.filters), "(`file` IN ('a''b', 'c'))");
  });
  it('metadata filters compile to a prefilter on typed metadata columns, literals quoted', () => {
    const c = compileFilterSpecs(
      [
        { field: 'metadata.lang', op: 'eq', value: "en' OR 1=1 --" },
        { field: 'metadata.n', op: 'gte', value: 2 },
        { field: 'metadata.ok', op: 'in', value: [true] },
        { field: 'metadata.at', op: 'lt', value: '2024-01-01T00:00:00Z' },
      ],
      meta,
    );
    assert.deepEqual(c.filters[0], { metadata: 'lang', op: 'eq', value: "en' OR 1=1 --" });
    const cols = metadataColumnsOf(meta);
    assert.deepEqual(
      cols.map((x) => x.column),
      ['meta_at', 'meta_lang', 'meta_n', 'meta_ok'],
    );
    assert.equal(
      compileFilters(c.filters, cols),
      "(`meta_lang` = 'en'' OR 1=1 --') AND (`meta_n` >= 2) AND (`meta_ok` IN (TRUE)) AND (`meta_at` < 1704067200000)",
    );
    // A table built before the contract named the field: refused with the fix, never a silent empty answer.
    assert.throws(
      () => compileFilters(c.filters, cols.slice(0, 1), 'table records_v1'),
      /table records_v1 has no column for metadata\.lang.*seamline reindex/,
    );
    assert.throws(
      () => compileFilterSpecs([{ field: 'metadata.tags', op: 'eq', value: 'a' }], meta),
      /not filterable/,
    );
  });
  it('parses CLI --where expressions typed by field', () => {
    assert.deepEqual(parseWhere('source_version>=2', meta), { field: 'source_version', op: 'gte', value: 2 });
    assert.deepEqual(parseWhere("id = x' OR 1=1 --", meta), { field: 'id', op: 'eq', value: "x' OR 1=1 --" });
    assert.deepEqual(parseWhere('metadata.lang in en,fr', meta), {
      field: 'metadata.lang',
      op: 'in',
      value: ['en', 'fr'],
    });
    assert.deepEqual(parseWhere('metadata.ok != false', meta), {
      field: 'metadata.ok',
      op: 'ne',
      value: false,
    });
    assert.throws(() => parseWhere('nonsense', meta), /FIELD OP VALUE/);
  });
});
