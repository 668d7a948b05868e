import { parseSince, type QuarantineList } from '../../observability/activity.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';
import { iso, limitOf, noPositionals, openForListing, stringFlag, textTable } from './activity-common.js';

/**
 * `seamline quarantine [--file F] [--code C] [--since T] [--limit N]`: quarantined records, newest
 * first: file, line, code, reason and a safe (escaped, bounded) excerpt of the raw bytes.
 */
export const quarantine: Command = async (ctx) => {
  noPositionals(ctx, 'quarantine');
  const since = stringFlag(ctx, 'since');
  const filter = {
    file: stringFlag(ctx, 'file'),
    code: stringFlag(ctx, 'code'),
    sinceMs: since === undefined ? undefined : parseSince(since, Date.now()),
    limit: limitOf(ctx),
  };
  const stores = await openForListing(ctx);
  let out: QuarantineList;
  try {
    out = stores ? await stores.readModel.listQuarantine(filter) : { total: 0, entries: [] };
  } finally {
    await stores?.close();
  }
  printOut(ctx.json, out, () => {
    if (out.total === 0) return 'no quarantined records match';
    const rows = out.entries.map((e) => [`${e.file}:${e.line}`, e.code, e.reason, iso(e.atMs)]);
    const detail = out.entries.map(
      (e) => `#${e.qId} ${e.file}:${e.line}\n  ${e.excerpt}${e.truncated ? ' …' : ''}`,
    );
    return [
      textTable(['FILE:LINE', 'CODE', 'REASON', 'AT'], rows, 70),
      '',
      ...detail,
      '',
      `${out.entries.length} of ${out.total} shown (newest first)`,
    ].join('\n');
  });
  return 0;
};
