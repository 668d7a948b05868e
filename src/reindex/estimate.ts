import { performance } from 'node:perf_hooks';
import type { Embedder, TextChunk } from '../ports/embedder.js';
import { contentHash } from '../processor/materialize-plan.js';
import type { ReindexDeps } from './deps.js';

export interface ReindexEstimate {
  readonly dryRun: true;
  readonly modelId: string;
  readonly dim: number;
  readonly sourceTable: string | null;
  readonly sourceModelId: string | null;
  /** Live ids (the records the new table will hold). */
  readonly records: number;
  readonly deletedIds: number;
  readonly chunks: number;
  readonly tokens: number;
  /** Chunks whose vector the serving table already holds (same model and content hash). */
  readonly reusableVectors: number;
  readonly toEmbed: number;
  /** Texts per second measured on a sample embed of this model on this machine. */
  readonly embedTextsPerSecond: number;
  readonly sampleTexts: number;
  readonly maxRps: number;
  readonly estimatedMs: number;
  /** What bounds the estimate: the embedding work or the throughput cap. */
  readonly boundBy: 'embedding' | 'throughput cap';
}

/**
 * What a rebuild would cost, without writing anything: records, chunks, tokens, reusable vectors, and a
 * time estimate from a sample embed measured here (after a warm-up call).
 */
export async function estimateReindex(
  deps: Pick<ReindexDeps, 'config' | 'bronze' | 'jobs' | 'store' | 'embedder'>,
  modelId: string,
  maxRps: number,
  sampleSize = 64,
): Promise<ReindexEstimate> {
  const c = deps.config;
  const jobs = deps.jobs;
  const embedder: Embedder = await deps.embedder(modelId);
  const serving = await jobs.serving();
  const oldTable = serving ? await deps.store.openTable(serving.tableName) : null;
  const sameModel = serving !== null && serving.modelId === embedder.modelId && serving.dim === embedder.dim;
  let records = 0;
  let deleted = 0;
  let chunks = 0;
  let tokens = 0;
  let reusable = 0;
  const sample: TextChunk[] = [];
  for (let after = ''; ;) {
    const page = await jobs.keyPage(after, c.reindex.pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const live = page.filter((k) => !k.deleted);
    deleted += page.length - live.length;
    records += live.length;
    const events = (await deps.bronze.eventsBySeq(live.map((k) => k.seq))).filter((e) => e.op === 'upsert');
    if (events.length === 0) continue;
    const chunked = await embedder.chunk(
      events.map((e) => e.text),
      c.chunking.maxTokens,
      c.chunking.overlapTokens,
    );
    const have = new Set<string>();
    if (sameModel && oldTable)
      for (const r of await oldTable.rowsForIds(events.map((e) => e.id)))
        if (r.modelId === embedder.modelId) have.add(r.contentHash);
    for (const list of chunked) {
      for (const ch of list) {
        chunks += 1;
        tokens += ch.tokens;
        if (have.has(contentHash(embedder.modelId, ch.text))) reusable += 1;
        else if (sample.length < sampleSize) sample.push(ch);
      }
    }
  }
  let rate = 0;
  const measured =
    sample.length > 0
      ? sample
      : [{ text: 'a short warm-up sentence to measure the embedding throughput', tokens: 12 }];
  await embedder.embed(measured.slice(0, 4));
  const t0 = performance.now();
  await embedder.embed(measured);
  const ms = performance.now() - t0;
  rate = ms > 0 ? (measured.length * 1000) / ms : 0;
  const toEmbed = chunks - reusable;
  const embedMs = rate > 0 ? (toEmbed / rate) * 1000 : 0;
  const capMs = maxRps > 0 ? ((records + deleted) / maxRps) * 1000 : 0;
  return {
    dryRun: true,
    modelId: embedder.modelId,
    dim: embedder.dim,
    sourceTable: serving?.tableName ?? null,
    sourceModelId: serving?.modelId ?? null,
    records,
    deletedIds: deleted,
    chunks,
    tokens,
    reusableVectors: reusable,
    toEmbed,
    embedTextsPerSecond: Math.round(rate * 10) / 10,
    sampleTexts: measured.length,
    maxRps,
    estimatedMs: Math.round(Math.max(embedMs, capMs)),
    boundBy: capMs > embedMs ? 'throughput cap' : 'embedding',
  };
}
