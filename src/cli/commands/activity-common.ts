import { SeamlineError } from '../../errors/errors.js';
import type { Stores } from '../../ports/stores.js';
import { openExistingStores } from '../../store/open.js';
import type { CommandContext } from '../context.js';

/**
 * Opens the stores read-only for the listing commands: no lock, no model, no LanceDB, so they run
 * beside a live daemon. A data folder with no database yet is an empty listing, not an error.
 */
export function openForListing(ctx: CommandContext): Promise<Stores | null> {
  return openExistingStores(ctx.config);
}

/** `--limit N`: a positive integer (clamped to the read model's maximum later). */
export function limitOf(ctx: CommandContext): number | undefined {
  const v = ctx.values.limit;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < 1)
    throw new SeamlineError('USAGE', `--limit ${JSON.stringify(v)}: expected a positive integer`);
  return n;
}

export const stringFlag = (ctx: CommandContext, name: string): string | undefined => {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
};

export const noPositionals = (ctx: CommandContext, cmd: string): void => {
  if (ctx.args.length > 0)
    throw new SeamlineError('USAGE', `${cmd} takes no arguments (got ${JSON.stringify(ctx.args.join(' '))})`);
};

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** A plain left-aligned text table (widths from the content, capped). */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], cap = 60): string {
  const cut = (s: string): string => (s.length > cap ? `${s.slice(0, cap - 1)}…` : s);
  const all = [head, ...rows].map((r) => r.map(cut));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => pad(c, widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
export const secs = (ms: number | null): string =>
  ms === null ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
