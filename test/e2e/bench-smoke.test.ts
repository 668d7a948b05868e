// Smoke test of the benchmarks: each script's --quick mode runs to completion and writes sane
// results. Not a timing gate: figures from a shared CI machine mean nothing; only that they exist.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const BENCH = fileURLToPath(new URL('../../benchmarks/', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'seamline-bench-smoke-'));

function run(
  script: string,
  args: readonly string[],
  timeoutMs = 150_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(BENCH, `${script}.js`), '--quick', '--out', out, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} timed out\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

const latest = <T>(name: string): T =>
  JSON.parse(readFileSync(path.join(out, `${name}-latest.json`), 'utf8')) as T;

describe('benchmarks --quick (smoke, not a timing gate)', () => {
  after(() => rmSync(out, { recursive: true, force: true }));

  it('embed-profile measures the three paths, which agree, and draws the chart', async () => {
    const r = await run('embed-profile', ['--batch', '1,16']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /seam\/ort/);
    const p = latest<{
      cells: { paths: Record<string, { textsPerS: number; paddingEfficiency: number }> }[];
      agreement: { ortVsPlain: number; seamlineVsPlain: number }[];
    }>('embed-profile');
    assert.ok(p.cells.length >= 4);
    for (const c of p.cells)
      for (const k of ['ort', 'plain', 'seamline'])
        assert.ok(c.paths[k]!.textsPerS > 0 && c.paths[k]!.paddingEfficiency <= 1.0001, k);
    for (const a of p.agreement)
      assert.ok(a.ortVsPlain < 1e-4 && a.seamlineVsPlain < 1e-4, JSON.stringify(a));
    assert.ok(existsSync(path.join(out, 'embed-profile-use-lite-512d.svg')));
    assert.match(
      readFileSync(path.join(out, 'embed-profile-use-lite-512d.svg'), 'utf8'),
      /^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/,
    );
  });

  it('latency runs the daemon and reports percentiles and the budget', async () => {
    const r = await run('latency', [
      '--model',
      'local/glove-sif-100d',
      '--duration',
      '3',
      '--backfill-records',
      '200',
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const l = latest<{
      phases: {
        records: number;
        latencyMs: { p50: number; p99: number };
        budgetMedianMs: Record<string, number>;
      }[];
    }>('latency');
    assert.equal(l.phases.length, 2);
    for (const p of l.phases) {
      assert.ok(p.records > 0 && p.latencyMs.p50 > 0 && p.latencyMs.p99 >= p.latencyMs.p50);
      assert.ok(Number.isFinite(p.budgetMedianMs.total));
    }
  });

  it('backfill compares the pipeline with the ceiling and the plain loop', async () => {
    const r = await run('backfill', ['--neural-records', '100', '--records', '500']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const b = latest<{
      runs: {
        records: number;
        textsEmbedded: number;
        vsCeiling: number;
        vsPlain: number;
        pipeline: { recordsPerS: number; peakRssMiB: number };
      }[];
    }>('backfill');
    assert.equal(b.runs.length, 2);
    for (const x of b.runs) {
      assert.ok(x.textsEmbedded >= x.records, 'every record was embedded');
      assert.ok(x.pipeline.recordsPerS > 0 && x.vsCeiling > 0 && x.vsPlain > 0 && x.pipeline.peakRssMiB > 0);
    }
  });

  it('recommend prints the arithmetic and a config snippet that the schema accepts', async () => {
    const r = await run('recommend', ['--arrival-rate', '20', '--target-latency-ms', '2000']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /maxRecords/);
    const rec = latest<{ config: Record<string, unknown> }>('recommend');
    const { ConfigSchema } = await import('../../src/config/schema.js');
    assert.doesNotThrow(() => ConfigSchema.parse(rec.config));
  });
});
