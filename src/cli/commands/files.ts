import type { FileActivity } from '../../observability/activity.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';
import { iso, limitOf, noPositionals, openForListing, secs, textTable } from './activity-common.js';

/** `seamline files [--limit N]`: recent landed files, newest first: state, counts, landing → searchable. */
export const files: Command = async (ctx) => {
  noPositionals(ctx, 'files');
  const limit = limitOf(ctx);
  const stores = await openForListing(ctx);
  let list: FileActivity[] = [];
  try {
    if (stores)
      list = await stores.readModel.recentFiles({
        limit,
        table: (await stores.tables.serving())?.tableName ?? null,
      });
  } finally {
    await stores?.close();
  }
  printOut(ctx.json, { files: list }, () =>
    list.length === 0
      ? 'no files landed yet'
      : textTable(
          ['FILE', 'STATE', 'READ', 'LANDED', 'QUAR', 'PUBLISHED', 'LANDED AT', 'TO SEARCHABLE'],
          list.map((f) => [
            f.path,
            f.state,
            String(f.read),
            String(f.landed),
            String(f.quarantined),
            String(f.published),
            iso(f.landedAtMs),
            secs(f.landToSearchableMs),
          ]),
        ),
  );
  return 0;
};
