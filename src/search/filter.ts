import type { MetadataFieldType } from '../config/schema.js';
import { parseTimestamp } from '../contract/timestamp.js';
import { SeamlineError } from '../errors/errors.js';
import type { FilterColumn, FilterOp, FilterScalar, TableFilter } from '../ports/vector-store.js';

/** A filter as a client writes it: `{ field, op, value }`. */
export interface FilterSpec {
  readonly field: string;
  readonly op: FilterOp;
  readonly value: unknown;
}

export interface CompiledFilters {
  /**
   * Every condition, on provenance columns or typed metadata columns (`meta_NAME`), compiled by the
   * store adapter into one prefilter: nothing is checked after top-k, so nothing is silently dropped.
   */
  readonly filters: readonly TableFilter[];
}

type FilterValueType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';

export const FILTER_OPS: readonly FilterOp[] = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'];
const MAX_IN_VALUES = 100;
const MAX_FILTERS = 16;
const MAX_STRING = 1024;

/** Provenance fields a client may filter on, the column each maps to and its value type. */
const PROVENANCE: Readonly<Record<string, { column: FilterColumn; type: FilterValueType }>> = {
  id: { column: 'id', type: 'string' },
  chunk: { column: 'chunk', type: 'integer' },
  source_version: { column: 'source_version', type: 'number' },
  event_time: { column: 'event_time_ms', type: 'timestamp' },
  bronze_seq: { column: 'bronze_seq', type: 'integer' },
  file: { column: 'file', type: 'string' },
  batch_id: { column: 'batch_id', type: 'string' },
  model_id: { column: 'model_id', type: 'string' },
  pipeline_version: { column: 'pipeline_version', type: 'string' },
};

const FILTERABLE_METADATA: ReadonlySet<MetadataFieldType> = new Set([
  'string',
  'number',
  'integer',
  'boolean',
  'timestamp',
]);

/** The fields a filter may name for this contract: provenance fields and `metadata.NAME` for scalar metadata. */
export function filterableFields(metadata: Readonly<Record<string, MetadataFieldType>>): string[] {
  return [
    ...Object.keys(PROVENANCE),
    ...Object.entries(metadata)
      .filter(([, t]) => FILTERABLE_METADATA.has(t))
      .map(([n]) => `metadata.${n}`),
  ];
}

const usage = (msg: string): SeamlineError => new SeamlineError('USAGE', msg);

function coerce(field: string, type: FilterValueType, v: unknown): FilterScalar | boolean {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw usage(`filter ${field}: value must be a string`);
      if (v.length > MAX_STRING) throw usage(`filter ${field}: value longer than ${MAX_STRING} characters`);
      if (v.includes('\u0000')) throw usage(`filter ${field}: value contains a NUL character`);
      return v;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw usage(`filter ${field}: value must be a finite number`);
      if (type === 'integer' && !Number.isInteger(v))
        throw usage(`filter ${field}: value must be an integer`);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw usage(`filter ${field}: value must be true or false`);
      return v;
    case 'timestamp': {
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v !== 'string')
        throw usage(`filter ${field}: value must be an ISO-8601 time with a zone or epoch milliseconds`);
      const t = parseTimestamp(v);
      if (!t.ok) throw usage(`filter ${field}: ${t.message}`);
      return t.ms;
    }
  }
}

/**
 * Validates client filters against the allow-list of fields and operators and types every value.
 * Pure. Throws USAGE naming the offending field, operator or value.
 */
export function compileFilterSpecs(
  specs: readonly FilterSpec[],
  metadata: Readonly<Record<string, MetadataFieldType>>,
): CompiledFilters {
  if (specs.length > MAX_FILTERS) throw usage(`at most ${MAX_FILTERS} filters`);
  const out: TableFilter[] = [];
  for (const s of specs) {
    if (!FILTER_OPS.includes(s.op))
      throw usage(
        `filter ${String(s.field)}: unknown op ${JSON.stringify(s.op)} (allowed: ${FILTER_OPS.join(', ')})`,
      );
    let type: FilterValueType;
    let column: FilterColumn | null = null;
    if (Object.prototype.hasOwnProperty.call(PROVENANCE, s.field)) {
      ({ column, type } = PROVENANCE[s.field]!);
    } else if (
      s.field.startsWith('metadata.') &&
      Object.prototype.hasOwnProperty.call(metadata, s.field.slice(9)) &&
      FILTERABLE_METADATA.has(metadata[s.field.slice(9)]!)
    ) {
      type = metadata[s.field.slice(9)] as FilterValueType;
    } else {
      throw usage(
        `filter field ${JSON.stringify(s.field)} is not filterable (allowed: ${filterableFields(metadata).join(', ')})`,
      );
    }
    if (type === 'boolean' && !['eq', 'ne', 'in'].includes(s.op))
      throw usage(`filter ${s.field}: op ${s.op} does not apply to a boolean`);
    let value: FilterScalar | boolean | (FilterScalar | boolean)[];
    if (s.op === 'in') {
      if (!Array.isArray(s.value) || s.value.length === 0 || s.value.length > MAX_IN_VALUES)
        throw usage(`filter ${s.field}: op in needs an array of 1 to ${MAX_IN_VALUES} values`);
      value = (s.value as unknown[]).map((v) => coerce(s.field, type, v));
    } else value = coerce(s.field, type, s.value);
    if (column) out.push({ column, op: s.op, value: value as FilterScalar | FilterScalar[] });
    else out.push({ metadata: s.field.slice(9), op: s.op, value });
  }
  return { filters: out };
}

const WHERE_RE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|<=|>=|=|<|>|\bin\b)\s*(.*)$/s;
const OP_OF: Readonly<Record<string, FilterOp>> = {
  '=': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'lte',
  '>': 'gt',
  '>=': 'gte',
  in: 'in',
};

/**
 * Parses the CLI form `FIELD OP VALUE` (ops = != < <= > >= in; `in` takes a comma list) into a spec.
 * Values are typed by the field: numbers and booleans are parsed, everything else stays a string.
 */
export function parseWhere(expr: string, metadata: Readonly<Record<string, MetadataFieldType>>): FilterSpec {
  const m = WHERE_RE.exec(expr);
  if (!m)
    throw usage(`--where ${JSON.stringify(expr)}: expected FIELD OP VALUE with OP one of = != < <= > >= in`);
  const [, field, opText, rawValue] = m;
  const op = OP_OF[opText!]!;
  const type: FilterValueType | undefined =
    PROVENANCE[field!]?.type ??
    (field!.startsWith('metadata.') ? (metadata[field!.slice(9)] as FilterValueType | undefined) : undefined);
  const typed = (s: string): unknown => {
    const t = s.trim();
    if (type === 'number' || type === 'integer') return t === '' ? t : Number(t);
    if (type === 'boolean') return t === 'true' ? true : t === 'false' ? false : t;
    if (type === 'timestamp' && /^\d+$/.test(t)) return Number(t);
    return t;
  };
  const value = op === 'in' ? rawValue!.split(',').map(typed) : typed(rawValue!);
  return { field: field!, op, value };
}
