/** A record that passed the contract: the only shape bronze stores and the processor reads. */
export interface ContractRecord {
  readonly id: string;
  /** Source version: a non-negative safe integer. Higher wins. */
  readonly version: number;
  /** Event time normalized to UTC ISO-8601 (millisecond precision). */
  readonly eventTime: string;
  readonly eventTimeMs: number;
  readonly op: 'upsert' | 'delete';
  /** The text to embed (text fields joined by a blank line); empty for deletes. */
  readonly text: string;
  /** Typed metadata; null-prototype-free plain object (no __proto__ surprises). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Stable reason codes for quarantined records; documented in docs/landing.md. */
export type QuarantineCode =
  | 'MALFORMED_JSON'
  | 'NOT_AN_OBJECT'
  | 'MISSING_FIELD'
  | 'WRONG_TYPE'
  | 'EMPTY_ID'
  | 'ZONELESS_TIMESTAMP'
  | 'BAD_TIMESTAMP'
  | 'BAD_VERSION'
  | 'BAD_OP'
  | 'EMPTY_TEXT'
  | 'TEXT_TOO_LONG'
  | 'UNKNOWN_FIELD'
  | 'FORBIDDEN_KEY'
  | 'TOO_DEEP'
  | 'LINE_TOO_LONG'
  | 'INVALID_UTF8'
  | 'CSV_MALFORMED'
  | 'CSV_BAD_HEADER'
  | 'TRUNCATED_INPUT'
  | 'CORRUPT_INPUT'
  | 'READ_FAILED'
  | 'LONE_SURROGATE'
  | 'FILE_TOO_LARGE'
  | 'TOO_MANY_LINES';

export type ValidationResult =
  | { readonly ok: true; readonly record: ContractRecord; readonly fields: readonly string[] }
  | {
      readonly ok: false;
      readonly code: QuarantineCode;
      readonly field: string | null;
      readonly message: string;
    };

export interface Contract {
  /** Validates one parsed value. Pure; never throws. */
  validate(value: unknown, source?: string): ValidationResult;
  /** Validates a row whose values are text (CSV): metadata cells are typed explicitly first. Pure; never throws. */
  validateText(row: unknown): ValidationResult;
  /** The field names the contract knows (used for schema-drift detection). */
  readonly knownFields: ReadonlySet<string>;
}
