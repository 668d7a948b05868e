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
  /** Refuse the file once more than this many (decompressed) bytes were read. Default: no limit. */
  readonly maxBytes?: number;
  /** Refuse the file once it has more than this many lines, blank ones included. Default: no limit. */
  readonly maxLines?: number;
}

/** Codes of the per-file limits (`landing.maxInflatedBytes`, `landing.maxLines`). */
export type LimitCode = 'FILE_TOO_LARGE' | 'TOO_MANY_LINES';

/** Thrown by a splitter when a per-file limit is crossed; the parser turns it into a stream failure. */
export class LimitExceeded extends Error {
  constructor(
    readonly code: LimitCode,
    message: string,
  ) {
    super(message);
    this.name = 'LimitExceeded';
  }
}
