import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilterSpecs, matchesMetadata, parseWhere } from '../../../src/search/filter.js';
import { reciprocalRankFusion } from '../../../src/search/rrf.js';
import { parseSearchRequest } from '../../../src/search/search.js';
import { compileFilters } from '../../../src/store/lance.js';

const limits = { maxK: 100, maxQueryChars: 100 };
const meta = { lang: 'string', n: 'integer', ok: 'boolean', at: 'timestamp', tags: 'string[]' } as const;

describe('parseSearchRequest', () => {
  it('accepts a full request and applies defaults', () => {
    assert.deepEqual(parseSearchRequest({ query: 'q' }, limits), {
      query: 'q',
      k: 10,
      mode: 'vector',
      filters: [],
    });
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
      compileFilters(c.columns),
      "(`id` = 'x'' OR 1=1 --') AND (`event_time_ms` >= 1704067200000)",
    );
    const inList = compileFilterSpecs([{ field: 'file', op: 'in', value: ["a'b", 'c'] }], meta);
    assert.equal(compileFilters(inList.columns), "(`file` IN ('a''b', 'c'))");
  });
  it('metadata predicates are evaluated on parsed metadata', () => {
    const c = compileFilterSpecs(
      [
        { field: 'metadata.lang', op: 'eq', value: 'en' },
        { field: 'metadata.n', op: 'gte', value: 2 },
      ],
      meta,
    );
    assert.equal(c.columns.length, 0);
    assert.equal(matchesMetadata({ lang: 'en', n: 2 }, c.metadata), true);
    assert.equal(matchesMetadata({ lang: 'en', n: 1 }, c.metadata), false);
    assert.equal(matchesMetadata({ lang: "en' OR 1=1", n: 5 }, c.metadata), false);
    assert.equal(matchesMetadata({}, c.metadata), false);
    const ne = compileFilterSpecs([{ field: 'metadata.lang', op: 'ne', value: 'en' }], meta);
    assert.equal(matchesMetadata({}, ne.metadata), true);
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

describe('reciprocal rank fusion', () => {
  it('fuses by rank, keeps items found by one side only', () => {
    const f = reciprocalRankFusion(
      [
        ['a', 'b', 'c'],
        ['c', 'd'],
      ],
      (x) => x,
      60,
    );
    assert.deepEqual(
      f.map((x) => x.item),
      ['c', 'a', 'b', 'd'],
    );
    assert.deepEqual(f[0]!.ranks, [3, 1]);
    assert.equal(f[0]!.score, 1 / 63 + 1 / 61);
    assert.deepEqual(
      reciprocalRankFusion([[], ['x']], (x) => x, 60).map((x) => x.item),
      ['x'],
    );
    assert.deepEqual(
      reciprocalRankFusion([['y'], []], (x) => x, 60).map((x) => x.item),
      ['y'],
    );
  });
  it('a duplicate inside one list counts once', () => {
    const f = reciprocalRankFusion([['a', 'a']], (x) => x, 1);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.score, 0.5);
  });
});
