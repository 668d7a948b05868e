import type { VectorTable } from '../ports/vector-store.js';
import type { ReplayCounts } from '../ports/ledger.js';
import { materialize } from './materialize.js';
import type { ReconcileDeps } from './reconcile.js';

export interface ReplayOptions {
  /** Fold published bronze up to this seq (default: all of it; files still landing are skipped either way). */
  readonly upToSeq?: number;
  /** Ids per materialize (one LanceDB version each). Default 1000. */
  readonly pageIds?: number;
  readonly signal?: AbortSignal;
  /** Progress after each page. */
  readonly onPage?: (done: number, counts: ReplayCounts) => void;
}

export interface ReplayResult extends ReplayCounts {
  readonly replayId: string;
  readonly version: number;
}

/**
 * Replays the whole bronze into a table: folds every published record into the key state (idempotent),
 * then materializes every id the key state or the table knows (state-based: rows that are already
 * right are kept and embed nothing; rows of unknown ids go). On an up-to-date table it changes 0 rows
 * and embeds 0 texts; into an empty table it builds the index (reindex). A crash mid-way leaves the
 * table correct for the pages done; running it again finishes the rest.
 */
export async function replayAll(
  deps: ReconcileDeps,
  table: VectorTable,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const { ledger, bronze, clock } = deps;
  const upTo = opts.upToSeq ?? (await bronze.maxSeq());
  const pageIds = opts.pageIds ?? 1000;
  const run = await ledger.replays().plan(table.name, 'replay', { upToSeq: upTo }, clock.nowMs());
  const log = deps.logger.child({ batch_id: run.replayId });
  log.info(
    { event: 'replay.start', table: table.name, up_to_seq: upTo },
    `replaying bronze up to seq ${upTo} into ${table.name}`,
  );
  const FOLD_PAGE = 5000;
  for (let from = 1; from <= upTo; from += FOLD_PAGE) {
    opts.signal?.throwIfAborted();
    await ledger.fold(
      await ledger.lanes().publishedEventsInRange(from, Math.min(upTo, from + FOLD_PAGE - 1)),
    );
  }
  // Ids the table holds that the key state does not know are unexpected rows: materialize removes them.
  const known = new Set<string>();
  for await (const page of ledger.allKeyIds()) for (const id of page) known.add(id);
  const strays = new Set<string>();
  for await (const rows of table.scanAll('provenance'))
    for (const r of rows) if (!known.has(r.id)) strays.add(r.id);
  const ids = [...known, ...strays];
  known.clear();
  const c = {
    idsTouched: ids.length,
    rowsInserted: 0,
    rowsUpdated: 0,
    rowsDeleted: 0,
    textsEmbedded: 0,
    textsReused: 0,
  };
  for (let i = 0; i < ids.length; i += pageIds) {
    opts.signal?.throwIfAborted();
    const r = await materialize(deps, table, ids.slice(i, i + pageIds), run.replayId, opts.signal);
    c.rowsInserted += r.inserted;
    c.rowsUpdated += r.updated;
    c.rowsDeleted += r.deleted;
    c.textsEmbedded += r.embedded;
    c.textsReused += r.reused;
    deps.fault('mid-replay');
    opts.onPage?.(Math.min(ids.length, i + pageIds), { ...c });
  }
  const version = await table.version();
  await ledger.replays().commit(run.replayId, version, c, clock.nowMs());
  log.info(
    {
      event: 'replay.done',
      table: table.name,
      ids: c.idsTouched,
      inserted: c.rowsInserted,
      updated: c.rowsUpdated,
      deleted: c.rowsDeleted,
      embedded: c.textsEmbedded,
      table_version: version,
    },
    'replay done',
  );
  return { replayId: run.replayId, version, ...c };
}
