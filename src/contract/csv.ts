import type { ContractConfig, MetadataFieldType } from '../config/schema.js';
import type { QuarantineCode } from './types.js';

type Fail = { ok: false; code: QuarantineCode; field: string | null; message: string };

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Types one CSV cell by the contract's declared type. Explicit and documented (docs/landing.md),
 * never guessed: integer = optional sign + digits; number = decimal or exponent notation;
 * boolean = true/false (any case); string[] and json = a JSON literal in the cell. Everything
 * else (id, version, event time, op, text, string, timestamp) stays text for the contract.
 */
function coerceCell(name: string, type: MetadataFieldType, v: string): { ok: true; value: unknown } | Fail {
  const wrong = (what: string): Fail => ({
    ok: false,
    code: 'WRONG_TYPE',
    field: name,
    message: `column "${name}": ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v)} is not ${what}`,
  });
  switch (type) {
    case 'integer': {
      if (!INTEGER.test(v.trim())) return wrong('an integer (digits with an optional sign)');
      const n = Number(v.trim());
      return Number.isSafeInteger(n) ? { ok: true, value: n } : wrong('a safe integer (|n| < 2^53)');
    }
    case 'number': {
      if (!NUMBER.test(v.trim())) return wrong('a number (decimal or exponent notation)');
      const n = Number(v.trim());
      return Number.isFinite(n) ? { ok: true, value: n } : wrong('a finite number');
    }
    case 'boolean': {
      const t = v.trim().toLowerCase();
      if (t === 'true') return { ok: true, value: true };
      if (t === 'false') return { ok: true, value: false };
      return wrong('a boolean (true or false)');
    }
    case 'string[]':
    case 'json': {
      try {
        return { ok: true, value: JSON.parse(v) as unknown };
      } catch {
        return wrong(type === 'json' ? 'a JSON value' : 'a JSON array of strings, e.g. ["a","b"]');
      }
    }
    default:
      return { ok: true, value: v };
  }
}

/**
 * Builds the CSV typer: takes a row of text cells (null-prototype object) and returns a new
 * null-prototype object with metadata cells typed. The result then goes through the same
 * contract validation as a JSON record, so every other rule applies unchanged.
 */
export function buildTextTyper(
  cfg: ContractConfig,
): (row: Readonly<Record<string, unknown>>) => { ok: true; value: Record<string, unknown> } | Fail {
  const types = new Map<string, MetadataFieldType>(Object.entries(cfg.metadata));
  return (row) => {
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(row)) {
      const v = row[k];
      const type = types.get(k);
      let value: unknown = v;
      if (type !== undefined && typeof v === 'string') {
        const r = coerceCell(k, type, v);
        if (!r.ok) return r;
        value = r.value;
      }
      // defineProperty: a "__proto__" column stays an ordinary own key (the contract then rejects it).
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    }
    return { ok: true, value: out };
  };
}
