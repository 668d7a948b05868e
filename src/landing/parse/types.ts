import type { QuarantineCode } from '../../contract/types.js';

/** One item from a streaming parser: a parsed value or a line-level failure, with its position. */
export type ParsedItem =
  | {
      readonly kind: 'value';
      /** 1-based line number (CSV: the physical line where the record starts). */
      readonly line: number;
      /** Byte offset of the record's first byte in the (decompressed) stream. */
      readonly offset: number;
      readonly value: unknown;
      /** The raw text of the record (for quarantine if the contract rejects it). */
      readonly raw: string;
      /** True when every value is text (CSV): the contract types them explicitly before validating. */
      readonly text?: true;
    }
  | {
      readonly kind: 'error';
      readonly line: number;
      readonly offset: number;
      readonly code: QuarantineCode;
      readonly message: string;
      readonly raw: string;
    };

export type LandingFormat = 'jsonl' | 'jsonl.gz' | 'csv';

export interface ParseOptions {
  readonly maxLineBytes: number;
  /** Raw text kept per item is truncated to this many bytes. */
  readonly rawBytes: number;
  readonly signal?: AbortSignal;
}
