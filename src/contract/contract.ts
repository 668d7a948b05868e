import type { ContractConfig, MetadataFieldType } from '../config/schema.js';
import { buildTextTyper } from './csv.js';
import { parseTimestamp } from './timestamp.js';
import type { Contract, ContractRecord, QuarantineCode, ValidationResult } from './types.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

type Fail = { ok: false; code: QuarantineCode; field: string | null; message: string };
const fail = (code: QuarantineCode, field: string | null, message: string): Fail => ({
  ok: false,
  code,
  field,
  message,
});

/** Depth of nested arrays/objects; stops counting past limit. Also reports forbidden keys anywhere. */
/** A UTF-16 surrogate without its pair (JSON "\ud800"): not text; SQLite would rewrite it to U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Shape = { tooDeep: boolean; forbidden: string | null; surrogate: string | null };
const CLEAN: Shape = { tooDeep: false, forbidden: null, surrogate: null };

function inspect(v: unknown, depth: number, limit: number, at = ''): Shape {
  if (depth > limit) return { ...CLEAN, tooDeep: true };
  if (typeof v === 'string') return LONE_SURROGATE.test(v) ? { ...CLEAN, surrogate: at || '(value)' } : CLEAN;
  if (v === null || typeof v !== 'object') return CLEAN;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = inspect(v[i], depth + 1, limit, `${at}[${i}]`);
      if (r.tooDeep || r.forbidden || r.surrogate) return r;
    }
    return CLEAN;
  }
  for (const k of Object.keys(v)) {
    if (FORBIDDEN_KEYS.has(k)) return { ...CLEAN, forbidden: k };
    const path = at ? `${at}.${k}` : k;
    if (LONE_SURROGATE.test(k)) return { ...CLEAN, surrogate: path };
    const r = inspect((v as Record<string, unknown>)[k], depth + 1, limit, path);
    if (r.tooDeep || r.forbidden || r.surrogate) return r;
  }
  return CLEAN;
}

/** The number as written in the source line (JSON.parse rounds 9007199254740993 and turns 1e400 into Infinity). */
function rawNumberText(source: string | undefined, key: string, parsed: unknown): string {
  if (source !== undefined) {
    const esc = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const m = new RegExp(`${esc}\\s*:\\s*(-?[0-9][0-9.eE+-]*)`).exec(source);
    if (m) return m[1]!;
  }
  return String(parsed);
}

function checkMeta(name: string, type: MetadataFieldType, v: unknown): { ok: true; value: unknown } | Fail {
  if (v === undefined || v === null) return { ok: true, value: null };
  const wrong = (): Fail =>
    fail('WRONG_TYPE', name, `field "${name}" must be ${type}, got ${Array.isArray(v) ? 'array' : typeof v}`);
  switch (type) {
    case 'string':
      return typeof v === 'string' ? { ok: true, value: v } : wrong();
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? { ok: true, value: v } : wrong();
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v) ? { ok: true, value: v } : wrong();
    case 'boolean':
      return typeof v === 'boolean' ? { ok: true, value: v } : wrong();
    case 'timestamp': {
      if (typeof v !== 'string') return wrong();
      const t = parseTimestamp(v);
      return t.ok
        ? { ok: true, value: t.iso }
        : fail(t.zoneless ? 'ZONELESS_TIMESTAMP' : 'BAD_TIMESTAMP', name, `field "${name}": ${t.message}`);
    }
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? { ok: true, value: v } : wrong();
    case 'json':
      return { ok: true, value: v };
  }
}

/** Builds the record contract from config. validate() is pure and never throws. */
export function buildContract(cfg: ContractConfig): Contract {
  const known = new Set<string>([
    cfg.idField,
    cfg.versionField,
    cfg.eventTimeField,
    cfg.opField,
    ...cfg.textFields,
    ...Object.keys(cfg.metadata),
  ]);
  const metaEntries = Object.entries(cfg.metadata);

  function validate(value: unknown, source?: string): ValidationResult {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return fail(
        'NOT_AN_OBJECT',
        null,
        `a record must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`,
      );
    }
    const obj = value as Record<string, unknown>;
    const shape = inspect(obj, 0, MAX_DEPTH);
    if (shape.forbidden !== null)
      return fail(
        'FORBIDDEN_KEY',
        shape.forbidden,
        `key "${shape.forbidden}" is not allowed in a record (prototype pollution guard)`,
      );
    if (shape.tooDeep) return fail('TOO_DEEP', null, `record nests deeper than ${MAX_DEPTH} levels`);
    // Quarantined, not repaired: storing it would silently turn it into replacement characters.
    if (shape.surrogate !== null)
      return fail(
        'LONE_SURROGATE',
        shape.surrogate,
        `field "${shape.surrogate}" contains an unpaired UTF-16 surrogate (a \\uD800–\\uDFFF escape without its pair); it is not valid text`,
      );
    const own = (k: string): unknown => (Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : undefined);

    const rawId = own(cfg.idField);
    let id: string;
    if (rawId === undefined || rawId === null)
      return fail('MISSING_FIELD', cfg.idField, `missing id field "${cfg.idField}"`);
    if (typeof rawId === 'string') id = rawId;
    else if (typeof rawId === 'number' && Number.isSafeInteger(rawId)) id = String(rawId);
    else
      return fail(
        'WRONG_TYPE',
        cfg.idField,
        `id field "${cfg.idField}" must be a string or an integer, got ${typeof rawId}`,
      );
    if (id.trim() === '') return fail('EMPTY_ID', cfg.idField, `id field "${cfg.idField}" is empty`);
    if (id.includes('\u0000'))
      return fail('WRONG_TYPE', cfg.idField, `id field "${cfg.idField}" contains a NUL character`);

    const rawVer = own(cfg.versionField);
    if (rawVer === undefined || rawVer === null)
      return fail('MISSING_FIELD', cfg.versionField, `missing version field "${cfg.versionField}"`);
    let version: number;
    if (typeof rawVer === 'number') version = rawVer;
    else if (typeof rawVer === 'string' && /^\d{1,15}$/.test(rawVer)) version = Number(rawVer);
    else
      return fail(
        'BAD_VERSION',
        cfg.versionField,
        `version field "${cfg.versionField}" must be a non-negative integer, got ${JSON.stringify(rawVer)}`,
      );
    if (!Number.isSafeInteger(version) || version < 0)
      return fail(
        'BAD_VERSION',
        cfg.versionField,
        `version field "${cfg.versionField}" must be a non-negative safe integer, got ${typeof rawVer === 'number' ? rawNumberText(source, cfg.versionField, rawVer) : String(rawVer)}`,
      );

    const rawTime = own(cfg.eventTimeField);
    if (rawTime === undefined || rawTime === null)
      return fail('MISSING_FIELD', cfg.eventTimeField, `missing event time field "${cfg.eventTimeField}"`);
    if (typeof rawTime !== 'string')
      return fail(
        'WRONG_TYPE',
        cfg.eventTimeField,
        `event time field "${cfg.eventTimeField}" must be an ISO-8601 string, got ${typeof rawTime}`,
      );
    const t = parseTimestamp(rawTime);
    if (!t.ok)
      return fail(
        t.zoneless ? 'ZONELESS_TIMESTAMP' : 'BAD_TIMESTAMP',
        cfg.eventTimeField,
        `event time field "${cfg.eventTimeField}": ${t.message}`,
      );

    const rawOp = own(cfg.opField);
    let op: 'upsert' | 'delete' = 'upsert';
    if (rawOp !== undefined && rawOp !== null) {
      if (rawOp === 'upsert' || rawOp === 'delete') op = rawOp;
      else
        return fail(
          'BAD_OP',
          cfg.opField,
          `op field "${cfg.opField}" must be "upsert" or "delete", got ${JSON.stringify(rawOp)}`,
        );
    }

    const texts: string[] = [];
    for (const f of cfg.textFields) {
      const v = own(f);
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string')
        return fail(
          'WRONG_TYPE',
          f,
          `text field "${f}" must be a string, got ${Array.isArray(v) ? 'array' : typeof v}`,
        );
      if (v.trim() !== '') texts.push(v);
    }
    const text = op === 'delete' ? '' : texts.join('\n\n');
    if (op === 'upsert' && text === '')
      return fail(
        'EMPTY_TEXT',
        cfg.textFields.join('|'),
        `no non-empty text in field(s) ${cfg.textFields.map((f) => `"${f}"`).join(', ')}`,
      );
    if (text.length > cfg.maxTextChars)
      return fail(
        'TEXT_TOO_LONG',
        cfg.textFields.join('|'),
        `text is ${text.length} characters, over contract.maxTextChars (${cfg.maxTextChars})`,
      );

    const metadata: Record<string, unknown> = {};
    for (const [name, type] of metaEntries) {
      const r = checkMeta(name, type, own(name));
      if (!r.ok) return r;
      metadata[name] = r.value;
    }
    const unknown = Object.keys(obj).filter((k) => !known.has(k));
    if (unknown.length > 0) {
      if (cfg.unknownFields === 'reject')
        return fail(
          'UNKNOWN_FIELD',
          unknown[0]!,
          `unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')} (contract.unknownFields is "reject")`,
        );
      if (cfg.unknownFields === 'keep') {
        const extra: Record<string, unknown> = {};
        for (const k of unknown) extra[k] = obj[k];
        metadata.extra = extra;
      }
    }
    const record: ContractRecord = { id, version, eventTime: t.iso, eventTimeMs: t.ms, op, text, metadata };
    return { ok: true, record, fields: Object.keys(obj) };
  }
  const typeText = buildTextTyper(cfg);
  function validateText(row: unknown): ValidationResult {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) return validate(row);
    const typed = typeText(row as Record<string, unknown>);
    return typed.ok ? validate(typed.value) : typed;
  }
  return { validate, validateText, knownFields: known };
}
