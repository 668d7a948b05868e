import type { Logger } from 'pino';
import { SeamlineError } from '../errors/errors.js';
import type { BronzeEvent } from '../ports/bronze.js';
import type { Clock } from '../ports/clock.js';
import type { EmbedStats, Embedder, TextChunk } from '../ports/embedder.js';
import type { LeaseStore } from '../ports/leases.js';
import type { VectorTable } from '../ports/vector-store.js';
import { every } from '../runtime/every.js';
import { winningEvents, type MaterializeDeps } from './materialize.js';
import { desiredRowsFor, normalizeText, planMaterialize, type DesiredRow } from './materialize-plan.js';

/**
 * Several workers on one shared store (issue 16, docs/scale-out.md): how a processor claims batches and
 * takes turns writing to a LanceDB table. Absent (the SQLite default), the processor is the single writer.
 */
export interface WorkerCoordination {
  /** This worker's holder string (host:pid): the owner of its batch claims. */
  readonly owner: string;
  /** A batch claim lapses after this long even if its owner looks alive (a hung worker). */
  readonly claimTtlMs: number;
  /** Runs `fn` holding the table's writer lease (waits for it): one worker merges + commits at a time. */
  asWriter<T>(tableName: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export const TABLE_WRITER_PREFIX = 'table-writer:';

export interface TableWriterLeaseOptions {
  /** Lease TTL; renewed every third of it while held. Default 30 s. */
  readonly ttlMs?: number;
  /** How often a waiting worker tries again. Default 25 ms. */
  readonly pollMs?: number;
}

/**
 * The per-table LanceDB writer lease in the shared store (`table-writer:<table>`): short (held for one
 * merge + ledger commit, not while embedding), renewed while held, released at once. LanceDB wants one
 * writer per table (DESIGN §5); this makes the workers take turns while they embed in parallel.
 */
export class TableWriterLease {
  private readonly ttlMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly holder: string,
    private readonly logger: Logger,
    opts: TableWriterLeaseOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 25;
  }

  async asWriter<T>(tableName: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const name = `${TABLE_WRITER_PREFIX}${tableName}`;
    const waitStarted = this.clock.nowMs();
    while (!(await this.leases.tryAcquire(name, this.holder, this.ttlMs, this.clock.nowMs()))) {
      if (signal?.aborted)
        throw new SeamlineError('ABORTED', `stopped waiting for the writer lease of ${tableName}`);
      await this.clock.sleep(this.pollMs, signal);
    }
    const waitedMs = this.clock.nowMs() - waitStarted;
    if (waitedMs > 0)
      this.logger.debug({ event: 'writer.acquired', table: tableName, waited_ms: waitedMs }, 'writer lease');
    const ctl = new AbortController();
    const renewing = every(
      this.clock,
      Math.max(1, Math.floor(this.ttlMs / 3)),
      ctl.signal,
      async () => {
        if (!(await this.leases.renew(name, this.holder, this.ttlMs, this.clock.nowMs())))
          this.logger.error(
            { event: 'writer.lost', table: tableName },
            `the writer lease of ${tableName} expired while held (a stall longer than its TTL)`,
          );
      },
      (e) =>
        this.logger.warn(
          { event: 'writer.renew_failed', table: tableName, err: e },
          'writer lease renewal failed',
        ),
    );
    try {
      return await fn();
    } finally {
      ctl.abort();
      await renewing;
      await this.leases
        .release(name, this.holder)
        .catch((e: unknown) =>
          this.logger.warn(
            { event: 'writer.release_failed', table: tableName, err: e },
            'writer lease release failed (it expires)',
          ),
        );
    }
  }
}

/**
 * An embedder that remembers the vectors of one batch: `prefetch` embeds a batch's texts before the
 * writer lease is taken, so the batch's materialize (under the lease) finds them here and the lease is
 * held for the merge only. Stats are the inner embedder's (each text counted once). `clear()` after the batch.
 */
export class PrefetchingEmbedder implements Embedder {
  private readonly cache = new Map<string, Float32Array>();
  private readonly chunks = new Map<string, TextChunk[]>();

  constructor(private readonly inner: Embedder) {}

  get modelId(): string {
    return this.inner.modelId;
  }
  get dim(): number {
    return this.inner.dim;
  }
  chunk(texts: readonly string[], maxTokens: number, overlapTokens: number): Promise<TextChunk[][]> {
    return this.lookup(
      this.chunks,
      texts,
      (t) => `${maxTokens}:${overlapTokens}:${t}`,
      (m) => this.inner.chunk(m, maxTokens, overlapTokens),
    );
  }
  embed(texts: readonly TextChunk[], signal?: AbortSignal): Promise<Float32Array[]> {
    return this.lookup(
      this.cache,
      texts,
      (t) => t.text,
      (m) => this.inner.embed(m, signal),
    );
  }
  /** Chunks `texts` and keeps the result for this batch (the batch's materialize chunks them again). */
  async prefetchChunks(
    texts: readonly string[],
    maxTokens: number,
    overlapTokens: number,
  ): Promise<TextChunk[][]> {
    const out = await this.inner.chunk(texts, maxTokens, overlapTokens);
    texts.forEach((t, i) => this.chunks.set(`${maxTokens}:${overlapTokens}:${t}`, out[i]!));
    return out;
  }
  /** Embeds `texts` and keeps the vectors for this batch. */
  async prefetchVectors(texts: readonly TextChunk[], signal?: AbortSignal): Promise<void> {
    const vs = await this.inner.embed(texts, signal);
    texts.forEach((t, i) => this.cache.set(t.text, vs[i]!));
  }
  /** Only what a prefetch stored is served from memory; anything else goes to the inner embedder, unkept
   * (reconcile and replay materialize many ids through it: memory stays bounded by one batch). */
  private async lookup<K, V>(
    kept: Map<string, V>,
    items: readonly K[],
    keyOf: (k: K) => string,
    fetch: (misses: K[]) => Promise<V[]>,
  ): Promise<V[]> {
    const misses = items.filter((k) => !kept.has(keyOf(k)));
    const got = new Map<string, V>();
    if (misses.length > 0) (await fetch(misses)).forEach((v, i) => got.set(keyOf(misses[i]!), v));
    return items.map((k) => kept.get(keyOf(k)) ?? got.get(keyOf(k))!);
  }
  stats(): EmbedStats {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  clear(): void {
    this.cache.clear();
    this.chunks.clear();
  }
}

/**
 * Embeds, outside the writer lease, what materializing `ids` would embed now (the same plan as
 * materialize: winners from key state + the batch's events, chunks, rows the table does not hold yet).
 * Anything that changes before the lease is taken is embedded again under it: correctness never depends
 * on the prefetch. Returns the embedding time in ms.
 */
export async function prefetchBatch(
  deps: MaterializeDeps,
  embedder: PrefetchingEmbedder,
  table: VectorTable,
  ids: readonly string[],
  batchEvents: readonly BronzeEvent[],
  signal?: AbortSignal,
): Promise<number> {
  const events = (await winningEvents(deps, ids, { batchEvents })).filter((e) => e.op === 'upsert');
  if (events.length === 0) return 0;
  const chunked = await embedder.prefetchChunks(
    events.map((e) => e.text),
    deps.chunking.maxTokens,
    deps.chunking.overlapTokens,
  );
  const desired: DesiredRow[] = [];
  events.forEach((e, i) => desired.push(...desiredRowsFor(e, chunked[i]!, embedder.modelId)));
  const plan = planMaterialize(desired, await table.rowsForIds(ids), embedder.modelId);
  const missing = plan.decisions.filter((d) => d.action !== 'keep' && d.reuse === undefined);
  if (missing.length === 0) return 0;
  const t0 = performance.now();
  const texts = new Map(missing.map((d) => [normalizeText(d.desired.text), d.desired.tokens]));
  await embedder.prefetchVectors(
    [...texts].map(([text, tokens]): TextChunk => ({ text, tokens })),
    signal,
  );
  return Math.round(performance.now() - t0);
}
