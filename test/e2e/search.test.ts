import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonl, runCli, runJson, workspace } from '../helpers/cli.js';

interface Out {
  results: {
    id: string;
    score: number;
    sides?: { vector?: { rank: number }; fts?: { rank: number } };
    metadata: Record<string, unknown>;
    provenance: { file: string; sourceVersion: number };
  }[];
}

const docs = [
  ...Array.from({ length: 12 }, (_, i) => ({
    id: `m${i}`,
    text: `stock markets and bond markets moved as investors traded shares, note ${i}`,
    lang: 'en',
    n: i,
  })),
  { id: 'k1', text: 'the quarterly memo zyxwqv123 was filed with the archive', lang: 'en', n: 100 },
  { id: 'c1', text: 'a small cat slept on the warm windowsill', lang: 'fr', n: 200 },
  { id: "x' OR 1=1 --", text: 'a record whose id looks like an injection', lang: 'en', n: 300 },
].map((d) => ({ ...d, version: 1, event_time: '2024-05-01T10:00:00Z' }));

describe('search modes through the CLI (same implementation as POST /search)', () => {
  const w = workspace({ contract: { metadata: { lang: 'string', n: 'integer' } } });
  const search = (q: string, ...args: string[]) => runJson<Out>(['search', q, ...args], w.env());
  before(async () => {
    w.drop('docs.jsonl', jsonl(docs));
    await runJson(['ingest', '--once'], w.env());
  });
  after(() => w.cleanup());

  it('hybrid returns results when only one side has any', async () => {
    // A made-up token is invisible to glove-sif vectors (the vector side ranks k1 nowhere special) but full-text finds it.
    const vec = await search('zyxwqv123', '--mode', 'vector', '-k', '3');
    assert.notEqual(vec.results[0]!.id, 'k1', `vector top 3: ${vec.results.map((r) => r.id).join(',')}`);
    assert.deepEqual(
      (await search('zyxwqv123', '--mode', 'fts')).results.map((r) => r.id),
      ['k1'],
    );
    assert.equal((await search('zyxwqv123', '--mode', 'hybrid', '-k', '3')).results[0]!.id, 'k1');
    // A word no document contains has no full-text match, but the vector side still answers.
    assert.equal((await search('feline', '--mode', 'fts')).results.length, 0);
    const v = await search('feline', '--mode', 'hybrid', '-k', '3');
    assert.equal(v.results.length, 3);
    assert.equal(v.results[0]!.id, 'c1');
  });

  it('search --mode fts does not load the model; vector does', async () => {
    const env = w.env({ SEAMLINE_LOG__LEVEL: 'info' });
    const fts = await runCli(['search', 'zyxwqv123', '--mode', 'fts', '--local', '--json'], env);
    assert.equal(fts.code, 0, fts.stderr);
    assert.doesNotMatch(fts.stderr, /"event":"model.loaded"/);
    const vec = await runCli(['search', 'zyxwqv123', '--mode', 'vector', '--local', '--json'], env);
    assert.equal(vec.code, 0, vec.stderr);
    assert.match(vec.stderr, /"event":"model.loaded"/);
  });

  it('seamline eval scores every mode from BEIR files through the same search code', async () => {
    const q = path.join(w.dir, 'queries.jsonl');
    const qrels = path.join(w.dir, 'qrels.tsv');
    writeFileSync(
      q,
      '{"_id":"q1","text":"zyxwqv123 memo"}\n{"_id":"q2","text":"cat windowsill"}\n{"_id":"q3","text":"unjudged"}\n',
    );
    writeFileSync(qrels, 'query-id\tcorpus-id\tscore\r\nq1\tk1\t1\r\nq2\tc1\t1\r\n');
    const r = await runJson<{
      queries: number;
      metrics: Record<string, { ndcg10: number; recall100: number; mrr10: number }>;
    }>(['eval', '--queries', q, '--qrels', qrels], w.env());
    assert.equal(r.queries, 2);
    assert.deepEqual(Object.keys(r.metrics), ['vector', 'fts', 'hybrid']);
    assert.equal(r.metrics.fts!.ndcg10, 1);
    assert.equal(r.metrics.fts!.mrr10, 1);
    const only = await runJson<{ metrics: Record<string, unknown> }>(
      ['eval', '--queries', q, '--qrels', qrels, '--modes', 'fts'],
      w.env(),
    );
    assert.deepEqual(Object.keys(only.metrics), ['fts']);
    writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq1\tk1\n');
    const bad = await runCli(['eval', '--queries', q, '--qrels', qrels], w.env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /qrels\.tsv:2: expected query-id/);
  });

  it('hybrid ranks an exact keyword match the vector side misses', async () => {
    const vec = await search('markets zyxwqv123', '--mode', 'vector', '-k', '10');
    assert.ok(!vec.results.some((r) => r.id === 'k1'), 'the vector side does not surface k1 in its top 10');
    const hyb = await search('markets zyxwqv123', '--mode', 'hybrid', '-k', '10');
    const k1 = hyb.results.find((r) => r.id === 'k1');
    assert.ok(k1, `hybrid top 10 includes k1: ${hyb.results.map((r) => r.id).join(',')}`);
    assert.equal(k1.sides?.fts?.rank, 1);
  });

  it('filters: provenance and metadata, injection as data, results carry metadata and provenance', async () => {
    const f = await search(
      'markets',
      '--mode',
      'hybrid',
      '--where',
      'metadata.n>=10',
      '--where',
      'metadata.lang=en',
      '-k',
      '10',
    );
    assert.deepEqual(f.results.map((r) => r.id).sort(), ['k1', 'm10', 'm11', "x' OR 1=1 --"].sort());
    assert.ok(f.results.every((r) => (r.metadata.n as number) >= 10 && r.metadata.lang === 'en'));
    assert.ok(f.results.some((r) => r.id === 'm10'));
    assert.equal(f.results[0]!.provenance.file, 'docs.jsonl');
    const inj = await search('markets', '--where', "id=x' OR 1=1 --", '-k', '10');
    assert.deepEqual(
      inj.results.map((r) => r.id),
      ["x' OR 1=1 --"],
    );
    const none = await search('markets', '--where', "id=zz' OR 1=1 --", '-k', '10', '--mode', 'fts');
    assert.equal(none.results.length, 0);
    const bad = await runCli(['search', 'markets', '--where', 'text=1'], w.env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not filterable/);
  });
});
