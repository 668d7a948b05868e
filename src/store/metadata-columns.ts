import { Bool, Field, Float64, Utf8, type DataType } from 'apache-arrow';
import type { MetadataFieldType } from '../config/schema.js';
import { parseTimestamp } from '../contract/timestamp.js';

/**
 * Typed contract metadata fields stored as real table columns, so that filters on them are a
 * prefilter inside LanceDB (exact for any query) instead of a check on the top candidates.
 * Column `meta_<name>`; string → Utf8, boolean → Bool, number / integer / timestamp (epoch ms) →
 * Float64. `string[]` and `json` fields stay in metadata_json only (not filterable).
 */
export type ColumnKind = 'string' | 'number' | 'boolean';

export interface MetadataColumn {
  /** The contract field name (`metadata.NAME` in filters). */
  readonly name: string;
  /** The table column (`meta_NAME`). */
  readonly column: string;
  readonly type: Exclude<MetadataFieldType, 'string[]' | 'json'>;
  readonly kind: ColumnKind;
}

export const META_PREFIX = 'meta_';
/** Field names that can become a column: a plain identifier (no quoting games in filters). */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function kindOf(type: MetadataFieldType): ColumnKind | null {
  switch (type) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'integer':
    case 'timestamp':
      return 'number';
    default:
      return null;
  }
}

/** The metadata columns a table built under this contract has, in a stable (sorted) order. Pure. */
export function metadataColumnsOf(metadata: Readonly<Record<string, MetadataFieldType>>): MetadataColumn[] {
  return Object.entries(metadata)
    .filter(([n, t]) => SAFE_NAME.test(n) && kindOf(t) !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, type]) => ({
      name,
      column: `${META_PREFIX}${name}`,
      type: type as MetadataColumn['type'],
      kind: kindOf(type)!,
    }));
}

export function arrowTypeOf(kind: ColumnKind): DataType {
  return kind === 'string' ? new Utf8() : kind === 'boolean' ? new Bool() : new Float64();
}

export function metadataFields(cols: readonly MetadataColumn[]): Field[] {
  return cols.map((c) => new Field(c.column, arrowTypeOf(c.kind), true));
}

/** The column value of one field from a row's metadata JSON; null when missing or not of the type. Pure. */
export function columnValue(meta: unknown, col: MetadataColumn): string | number | boolean | null {
  if (meta === null || typeof meta !== 'object' || !Object.prototype.hasOwnProperty.call(meta, col.name))
    return null;
  const v = (meta as Record<string, unknown>)[col.name];
  switch (col.type) {
    case 'string':
      return typeof v === 'string' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'number':
    case 'integer':
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    case 'timestamp': {
      if (typeof v !== 'string') return null;
      const t = parseTimestamp(v);
      return t.ok ? t.ms : null;
    }
  }
}

export function parseMetadataJson(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}
