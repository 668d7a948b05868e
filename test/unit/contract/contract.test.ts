import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractSchema } from '../../../src/config/schema.js';
import { buildContract } from '../../../src/contract/contract.js';

const contract = buildContract(
  ContractSchema.parse({
    metadata: { n: 'integer', x: 'number', ok: 'boolean', tags: 'string[]', meta: 'json', when: 'timestamp' },
  }),
);
const base = { id: 'a', version: 1, event_time: '2024-01-01T00:00:00Z', text: 'hello' };

const codeOf = (v: unknown, text = false): string => {
  const r = text ? contract.validateText(v) : contract.validate(v);
  return r.ok ? 'ok' : r.code;
};

describe('contract', () => {
  it('accepts a good record and normalizes id and time', () => {
    const r = contract.validate({ ...base, id: 42, event_time: '2024-01-01T02:00:00+02:00' });
    assert.ok(r.ok);
    assert.equal(r.record.id, '42');
    assert.equal(r.record.eventTime, '2024-01-01T00:00:00.000Z');
  });

  it('rejects with specific codes: missing/empty id, zone-less time, bad version, wrong types', () => {
    assert.equal(codeOf({ ...base, id: undefined }), 'MISSING_FIELD');
    assert.equal(codeOf({ ...base, id: '  ' }), 'EMPTY_ID');
    assert.equal(codeOf({ ...base, id: 1.5 }), 'WRONG_TYPE');
    assert.equal(codeOf({ ...base, event_time: '2024-01-01T00:00:00' }), 'ZONELESS_TIMESTAMP');
    assert.equal(codeOf({ ...base, event_time: 'yesterday' }), 'BAD_TIMESTAMP');
    assert.equal(codeOf({ ...base, version: -1 }), 'BAD_VERSION');
    assert.equal(codeOf({ ...base, text: 5 }), 'WRONG_TYPE');
    assert.equal(codeOf({ ...base, n: '5' }), 'WRONG_TYPE', 'JSON values are not coerced');
    assert.equal(codeOf([base]), 'NOT_AN_OBJECT');
  });

  it('rejects __proto__/constructor keys anywhere (FORBIDDEN_KEY) without changing any prototype', () => {
    const polluted = JSON.parse(
      '{"id":"p","version":1,"event_time":"2024-01-01T00:00:00Z","text":"t","__proto__":{"polluted":1}}',
    ) as unknown;
    const r = contract.validate(polluted);
    assert.equal(!r.ok && r.code, 'FORBIDDEN_KEY');
    assert.equal(
      codeOf({ ...base, meta: JSON.parse('{"a":{"constructor":{"prototype":{"x":1}}}}') as unknown }),
      'FORBIDDEN_KEY',
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('rejects deeply nested values as TOO_DEEP (no stack overflow)', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    assert.equal(codeOf({ ...base, meta: deep }), 'TOO_DEEP');
  });

  it('unknown fields: keep (in metadata.extra), drop, reject', () => {
    const keep = contract.validate({ ...base, extra1: 'x' });
    assert.ok(keep.ok);
    assert.deepEqual(keep.record.metadata.extra, { extra1: 'x' });
    const drop = buildContract(ContractSchema.parse({ unknownFields: 'drop' })).validate({
      ...base,
      extra1: 'x',
    });
    assert.ok(drop.ok && drop.record.metadata.extra === undefined);
    const rej = buildContract(ContractSchema.parse({ unknownFields: 'reject' })).validate({
      ...base,
      extra1: 'x',
    });
    assert.equal(!rej.ok && rej.code, 'UNKNOWN_FIELD');
  });

  describe('CSV rows (text cells typed explicitly)', () => {
    const row = (o: Record<string, string>): Record<string, string> =>
      Object.assign(Object.create(null) as Record<string, string>, o);
    const txt = { id: '7', version: '3', event_time: '2024-01-01T00:00:00Z', text: 'hi' };

    it('types integer, number, boolean, string[] and json cells', () => {
      const r = contract.validateText(
        row({
          ...txt,
          n: '-12',
          x: '1.5e3',
          ok: 'TRUE',
          tags: '["a","b"]',
          meta: '{"k":[1,2]}',
          when: '2024-05-01T10:00:00+01:00',
        }),
      );
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.record.id, '7');
      assert.equal(r.record.version, 3);
      assert.deepEqual(
        { ...r.record.metadata },
        {
          n: -12,
          x: 1500,
          ok: true,
          tags: ['a', 'b'],
          meta: { k: [1, 2] },
          when: '2024-05-01T09:00:00.000Z',
        },
      );
    });

    it('never guesses: bad cells are WRONG_TYPE naming the column', () => {
      for (const [k, v] of [
        ['n', '1.5'],
        ['n', '12abc'],
        ['n', '99999999999999999999'],
        ['x', 'NaN'],
        ['x', ''],
        ['ok', 'yes'],
        ['ok', '1'],
        ['tags', 'a;b'],
        ['meta', '{'],
      ] as const) {
        const r = contract.validateText(row({ ...txt, [k]: v }));
        if (k === 'x' && v === '') {
          assert.equal(r.ok ? 'ok' : r.code, 'WRONG_TYPE');
          continue;
        }
        assert.equal(r.ok ? 'ok' : r.code, 'WRONG_TYPE', `${k}=${v}`);
        assert.equal(!r.ok && r.field, k);
      }
      assert.equal(codeOf(row({ ...txt, tags: '[1,2]' }), true), 'WRONG_TYPE', 'string[] must hold strings');
    });

    it('absent cells are null metadata; version must be digits', () => {
      const r = contract.validateText(row(txt));
      assert.ok(r.ok);
      assert.equal(r.record.metadata.n, null);
      assert.equal(codeOf(row({ ...txt, version: '1.0' }), true), 'BAD_VERSION');
      assert.equal(codeOf(row({ ...txt, event_time: '2024-01-01 10:00' }), true), 'ZONELESS_TIMESTAMP');
    });

    it('a __proto__ column is FORBIDDEN_KEY', () => {
      const r = row(txt);
      Object.defineProperty(r, '__proto__', { value: '{"x":1}', enumerable: true });
      assert.equal(codeOf(r, true), 'FORBIDDEN_KEY');
    });
  });
});
