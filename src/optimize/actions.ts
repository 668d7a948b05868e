import { toSeamlineError } from '../errors/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { MaintainableTable, VectorTable } from '../ports/vector-store.js';
import type { Action } from './policy.js';

export const ROLLBACK_TAG_PREFIX = 'seamline-optimize-';

/** LanceDB reports a lost optimistic-concurrency race as a retryable commit conflict. */
export function isCommitConflict(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const msg = cur instanceof Error ? cur.message : typeof cur === 'string' ? cur : '';
    if (/commit conflict|preempted by concurrent|Please retry/i.test(msg)) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}

const isTaggedCleanup = (e: unknown): boolean =>
  /tagged version\(s\) have been marked for cleanup/i.test(e instanceof Error ? e.message : String(e));

/** What the actions of one pass share: the tables, the retry budget and its counters. */
export interface ActionContext {
  readonly table: VectorTable;
  readonly maint: MaintainableTable;
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxConflictRetries: number;
  readonly tally: Tally;
}

/** What a pass counts across its actions (recorded in optimize_runs). */
export interface Tally {
  conflicts: number;
  retries: number;
  bytesReclaimed: number;
}

/** Runs fn; a commit conflict is retried up to maxConflictRetries times with backoff (on the clock). */
async function withRetry<T>(ax: ActionContext, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isCommitConflict(e)) throw e;
      ax.tally.conflicts += 1;
      if (attempt >= ax.maxConflictRetries)
        throw toSeamlineError(
          e,
          'STORE_FAILED',
          `${what}: commit conflict, retry budget (${ax.maxConflictRetries}) spent`,
        );
      ax.tally.retries += 1;
      ax.log.warn(
        { event: 'optimize.conflict', action: what, attempt: attempt + 1, err: e },
        `${what}: commit conflict, retrying`,
      );
      await ax.clock.sleep(100 * 2 ** attempt + Math.floor(Math.random() * 50));
    }
  }
}

/** Runs one action of the serving table's maintenance (drop-table runs outside the lease). */
export async function execute(ax: ActionContext, a: Action): Promise<void> {
  const { table: t, maint: m } = ax;
  switch (a.kind) {
    case 'delete-tags':
      for (const n of a.names) await m.deleteTag(n);
      return;
    case 'optimize':
      return compactAndPrune(ax, a.cleanupOlderThanMs);
    case 'create-vector-index': {
      const t0 = ax.clock.nowMs();
      await withRetry(ax, 'create-vector-index', () => m.createVectorIndex(a.indexType));
      ax.log.info(
        { event: 'optimize.index_built', index: a.indexType, ms: ax.clock.nowMs() - t0 },
        `built the ${a.indexType} vector index`,
      );
      return;
    }
    case 'create-fts-index':
      await withRetry(ax, 'create-fts-index', () => t.ensureFtsIndex());
      return;
    case 'tag-rollback-point': {
      const v = await t.version();
      const name = `${ROLLBACK_TAG_PREFIX}v${v}`;
      if (!(await m.tagList()).some((x) => x.name === name)) await m.createTag(name, v);
      return;
    }
    case 'drop-table':
      return;
  }
}

/**
 * Compaction + index folding first; pruning in a second call: LanceDB measures the prune cutoff from
 * its own clock when the prune step starts, so a long compaction before it would shift the cutoff
 * past a tagged version (which LanceDB refuses to prune: the call fails).
 */
async function compactAndPrune(ax: ActionContext, cleanupOlderThanMs: number | null): Promise<void> {
  const m = ax.maint;
  const c = await withRetry(ax, 'optimize', () => m.optimize(null));
  ax.log.info(
    { event: 'optimize.compacted', fragments_removed: c.fragmentsRemoved, fragments_added: c.fragmentsAdded },
    'optimize: compacted and folded new rows into indexes',
  );
  if (cleanupOlderThanMs === null) return;
  let cutoff = cleanupOlderThanMs;
  const p = await withRetry(ax, 'prune', async () => {
    try {
      return await m.optimize(cutoff);
    } catch (e) {
      if (!isTaggedCleanup(e)) throw e;
      // Our safety margin before a tag was too thin: prune less rather than fail the pass.
      ax.tally.retries += 1;
      cutoff -= 10_000;
      return await m.optimize(cutoff);
    }
  });
  ax.tally.bytesReclaimed += p.bytesRemoved;
  ax.log.info(
    {
      event: 'optimize.pruned',
      versions_removed: p.versionsRemoved,
      bytes_removed: p.bytesRemoved,
      cutoff: new Date(cutoff).toISOString(),
    },
    `optimize: pruned ${p.versionsRemoved} old version(s)`,
  );
}
