import { parseTimestamp } from '../contract/timestamp.js';
import { SeamlineError } from '../errors/errors.js';

/**
 * Read models of recent activity (files, batches, quarantine) for `seamline files|batches|quarantine`
 * and the status page: the pure parts (limits, safe excerpts, `--since`). The queries are the
 * ReadModel port (src/ports/read-model.ts), implemented by each store adapter; every list is bounded.
 */

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/** Characters of raw bytes shown in a listing, and when one quarantined record is opened. */
export const EXCERPT_CHARS = 160;
export const RECORD_CHARS = 4096;

export type {
  BatchActivity,
  FileActivity,
  QuarantineFilter,
  QuarantineList,
  QuarantineListEntry as QuarantineEntry,
} from '../ports/read-model.js';

/** Clamps a requested listing size to 1..MAX_LIMIT (DEFAULT_LIMIT when absent). */
export function clampLimit(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(n)));
}

// C0/C1 controls, DEL, bidi overrides/isolates, zero-width and BOM: never echoed raw to a terminal or page.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu;

/**
 * A safe, bounded rendering of untrusted raw bytes: unsafe characters become `\u{XX}`, tabs and
 * newlines `\t`/`\n`, and at most `max` characters are kept (on a code-point boundary). Pure.
 */
export function safeExcerpt(raw: string, max = EXCERPT_CHARS): { text: string; truncated: boolean } {
  const cps = Array.from(raw);
  const truncated = cps.length > max;
  const text = (truncated ? cps.slice(0, max).join('') : raw)
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
  return { text, truncated };
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: a duration back from now (`90s`, `15m`, `2h`, `7d`) or an ISO-8601 time with a zone. Pure. */
export function parseSince(value: string, nowMs: number): number {
  const d = DURATION.exec(value.trim());
  if (d) return nowMs - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  const t = parseTimestamp(value.trim());
  if (t.ok) return t.ms;
  throw new SeamlineError(
    'USAGE',
    `--since ${JSON.stringify(value)}: expected a duration such as 15m, 2h, 7d or an ISO-8601 time with a zone (${t.message})`,
  );
}
