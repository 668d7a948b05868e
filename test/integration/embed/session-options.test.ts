// The embedding worker's ONNX Runtime session options reach ORT: with ORT's verbose log on, the
// session traces its options at creation, config entries included. Spinning is off by default
// (`session.intra_op.allow_spinning: 0`), on when asked, and the vectors are the same either way.
// Each case runs in its own process: ORT logs natively to the process's stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../../src/config/load.js';

const MODELS = path.join(packageRoot(), 'models');
const EMBEDDER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../src/embed/worker-embedder.js',
);

function runWorker(spinning: boolean | null): { stderr: string; vector: number[] } {
  const script = `
    import { WorkerEmbedder } from ${JSON.stringify(EMBEDDER)};
    const spinning = ${JSON.stringify(spinning)};
    const emb = await WorkerEmbedder.start({
      modelId: 'local/use-lite-512d', modelsDir: ${JSON.stringify(MODELS)}, dtype: 'auto', allowRemote: false,
      threads: 2, maxBatchTokens: 8192, maxBatchTexts: 64, ortLogSeverity: 0,
      ...(spinning === null ? {} : { spinning }),
    });
    const [v] = await emb.embed([{ text: 'the same vector either way', tokens: 6 }]);
    await emb.close();
    process.stdout.write('VECTOR ' + JSON.stringify(Array.from(v)) + '\\n');
  `;
  // A file, not --input-type=module -e: the embedding worker would inherit --input-type and fail.
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-session-options-'));
  const file = path.join(dir, 'run.mjs');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `worker process failed: ${r.stderr.slice(-2000)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('VECTOR '));
  assert.ok(line, 'the embedder returned a vector');
  return { stderr: r.stderr, vector: JSON.parse(line.slice(7)) as number[] };
}

/** The session options ORT traced for the model's session (verbose log). */
function traced(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.includes('TraceSessionOptions'));
  assert.ok(line, 'ORT traced the session options (verbose log reached stderr)');
  return line;
}

describe('embedding worker: ONNX Runtime session options', () => {
  const byDefault = runWorker(null);
  const spinning = runWorker(true);

  it('turns intra-op and inter-op spinning off by default, with the threads asked for', () => {
    const t = traced(byDefault.stderr);
    assert.match(t, /session\.intra_op\.allow_spinning: 0/);
    assert.match(t, /session\.inter_op\.allow_spinning: 0/);
    assert.match(t, /intra_op_param:OrtThreadPoolParams \{ thread_pool_size: 2 /);
  });

  it('leaves ORT spinning (its default) when spinning is asked for', () => {
    const t = traced(spinning.stderr);
    assert.doesNotMatch(t, /allow_spinning: 0/);
  });

  it('gives bit-identical vectors with and without spinning', () => {
    assert.equal(byDefault.vector.length, 512);
    assert.deepEqual(byDefault.vector, spinning.vector);
  });
});
