import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jsonl, runJson, startCli, waitFor, workspace } from '../helpers/cli.js';

// Documents, pagination, pushed-down filters and fusion sides through the real daemon (POST /search),
// and `seamline search` asking that daemon instead of loading the model again.

interface Doc {
  id: string;
  score: number;
  chunkCount: number;
  sides?: { vector?: { score: number; rank: number }; fts?: { score: number; rank: number } };
  passages: { chunk: number; text: string; score: number | null; by: string | null }[];
  metadata: { title?: string };
  provenance: { file: string; line: number; sourceVersion: number };
}
interface Res {
  granularity: string;
  mode: string;
  offset: number;
  nextOffset: number | null;
  partial: boolean;
  notes: string[];
  fusion?: { method: string; vectorWeight: number; rrfK: number };
  results: Doc[];
  source?: string;
}

const TOPICS = ['rivers', 'mountains', 'glaciers', 'deserts', 'forests'];
// Long texts (several chunks at maxTokens 24) that all mention "valley", so a page never runs out.
const records = Array.from({ length: 40 }, (_, i) => ({
  id: `d${i}`,
  version: 1,
  event_time: '2024-05-01T10:00:00Z',
  title: i === 23 ? 'The rare title' : `common ${i % 4}`,
  text: Array.from(
    { length: 4 },
    (_, j) =>
      `part ${j} of record ${i}: the valley of ${TOPICS[(i + j) % 5]} with ${TOPICS[(i * 3 + j) % 5]} nearby`,
  ).join('. '),
}));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

describe('POST /search through the daemon (subprocess)', () => {
  let port = 0;
  const w = workspace({
    contract: { textFields: ['title', 'text'], metadata: { title: 'string' } },
    chunking: { maxTokens: 24, overlapTokens: 0 },
    processor: { triggerIntervalMs: 100 },
  });
  let d: ReturnType<typeof startCli> | null = null;
  const post = async (body: unknown): Promise<{ status: number; body: Res }> => {
    const r = await fetch(`http://127.0.0.1:${port}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Res };
  };
  before(async () => {
    port = await freePort();
    const env = w.env({ SEAMLINE_HTTP__PORT: String(port) });
    w.drop('docs.jsonl', jsonl(records));
    d = startCli(['run', '--json'], env);
    await waitFor(
      async () => {
        try {
          const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
            table?: { counters?: { recordsPublished?: number } };
          };
          return (s.table?.counters?.recordsPublished ?? 0) >= 40 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      90_000,
      'all 40 records published',
    );
  });
  after(async () => {
    if (d) {
      d.child.kill('SIGTERM');
      await d.exited;
    }
    w.cleanup();
  });

  it('k means k documents, each with its best chunk as a passage, metadata and provenance', async () => {
    const { status, body } = await post({ query: 'valley glaciers', k: 5, mode: 'fts' });
    assert.equal(status, 200);
    assert.equal(body.granularity, 'document');
    assert.equal(body.results.length, 5);
    assert.equal(new Set(body.results.map((r) => r.id)).size, 5);
    for (const r of body.results) {
      assert.ok(r.chunkCount > 1, `${r.id} has several chunks`);
      assert.equal(r.passages.length, 1);
      assert.equal(r.passages[0]!.by, 'fts');
      assert.equal(r.provenance.file, 'docs.jsonl');
      assert.ok(r.metadata.title);
    }
    assert.equal(body.partial, false);
    assert.equal(body.nextOffset, 5);
  });

  it('pages do not overlap and end; offset + k above the window is a 400', async () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const { body } = await post({ query: 'valley', k: 15, offset, mode: 'vector' });
      seen.push(...body.results.map((r) => r.id));
      offset = body.nextOffset;
    }
    assert.equal(seen.length, 40);
    assert.equal(new Set(seen).size, 40);
    assert.equal((await post({ query: 'valley', k: 10, offset: 995 })).status, 400);
  });

  it('a metadata filter is exact: the one matching document for an unrelated query, in every mode', async () => {
    for (const mode of ['vector', 'fts', 'hybrid'])
      assert.deepEqual(
        (
          await post({
            query: 'deserts valley',
            k: 10,
            mode,
            filters: [{ field: 'metadata.title', op: 'eq', value: 'The rare title' }],
          })
        ).body.results.map((r) => r.id),
        ['d23'],
        mode,
      );
  });

  it('hybrid hits carry each side score and rank, and the fusion used; weights per request', async () => {
    const { body } = await post({ query: 'valley of glaciers', k: 10, mode: 'hybrid' });
    assert.ok(body.fusion && ['rrf', 'minmax'].includes(body.fusion.method));
    assert.ok(body.results.some((r) => r.sides?.vector && r.sides.fts));
    for (const r of body.results) assert.ok(r.sides?.vector ?? r.sides?.fts);
    const ftsOnly = await post({
      query: 'valley of glaciers',
      k: 10,
      mode: 'hybrid',
      weights: { vector: 0, fts: 1 },
    });
    // Same depth as the hybrid side (search.hybridCandidates = 100): rows not yet folded into the FTS index
    // are scored apart by LanceDB, so a shallower fts query may pick other tied documents.
    const fts = await post({ query: 'valley of glaciers', k: 100, mode: 'fts' });
    // BM25 ties (these texts are alike) may come back in either order, and which tied documents fill the
    // last places depends on how many candidates a side fetched: compare the score at each rank.
    const round = (x: number | undefined): number => Math.round((x ?? Number.NaN) * 1e4) / 1e4;
    assert.deepEqual(
      ftsOnly.body.results.map((r) => round(r.sides?.fts?.score)),
      fts.body.results.slice(0, 10).map((r) => round(r.score)),
      'weight 0 on vectors = full-text order',
    );
    const chunks = await post({ query: 'valley', k: 6, mode: 'vector', granularity: 'chunk' });
    assert.equal(chunks.body.granularity, 'chunk');
    assert.equal(chunks.body.results.length, 6);
  });

  it('seamline search asks the running daemon (no second model load)', async () => {
    const r = await runJson<Res>(
      ['search', 'valley glaciers', '--mode', 'fts', '-k', '3'],
      w.env({ SEAMLINE_HTTP__PORT: String(port) }),
    );
    assert.equal(r.source, 'daemon');
    assert.equal(r.results.length, 3);
    const local = await runJson<Res>(
      ['search', 'valley glaciers', '--mode', 'fts', '-k', '3', '--local'],
      w.env({ SEAMLINE_HTTP__PORT: String(port) }),
    );
    assert.equal(local.source, 'local');
    assert.deepEqual(
      local.results.map((x) => x.id),
      r.results.map((x) => x.id),
    );
  });
});
