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

  it('latency runs the issue-11 scenarios side by side and reports their figures (not their timings)', async () => {
    const r = await run('latency', [
      '--model',
      'local/glove-sif-100d',
      '--duration',
      '2',
      '--backfill-records',
      '600',
      '--heavy-mb',
      '3',
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const l = latest<{
      scenarios: {
        scenario: string;
        records: number;
        lanes: Record<string, number>;
        latencyMs: { p50: number; p99: number } | null;
        budgetMedianMs: Record<string, number> | null;
        backfill: { recordsPerS: number } | null;
        eventLoop: { p99Ms: number; maxMs: number } | null;
        eventLoopIdleProcess: { p99Ms: number; maxMs: number } | null;
        liveLoad: { recordsPerS: number; backfillShareBound: number; totalOverSolo: number } | null;
      }[];
      targets: { scenario: string; target: string; met: boolean | null }[];
      backfillRatio: number | null;
    }>('latency');
    assert.deepEqual(
      l.scenarios.map((s) => s.scenario),
      ['idle', 'idle-rename', 'backfill-solo', 'backfill-live', 'heavy-file'],
    );
    for (const s of l.scenarios) {
      if (s.scenario === 'backfill-solo') {
        assert.ok(s.backfill && s.backfill.recordsPerS > 0);
        continue;
      }
      assert.ok(
        s.records > 0 && s.latencyMs && s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50,
        s.scenario,
      );
      assert.ok(Number.isFinite(s.budgetMedianMs?.total), s.scenario);
      assert.ok((s.lanes.live ?? 0) > 0, `${s.scenario}: live files went through the live lane`);
    }
    const live = l.scenarios.find((s) => s.scenario === 'backfill-live')!;
    assert.ok(live.backfill && live.backfill.recordsPerS > 0 && l.backfillRatio! > 0);
    assert.ok(live.eventLoop && live.eventLoop.maxMs >= live.eventLoop.p99Ms);
    // The control: an idle process's event-loop delay over the same seconds, and the share bound.
    const idle = live.eventLoopIdleProcess;
    assert.ok(idle && idle.p99Ms > 0 && idle.maxMs >= idle.p99Ms, JSON.stringify(idle));
    const load = live.liveLoad;
    assert.ok(load && load.recordsPerS >= 0 && load.backfillShareBound >= 0 && load.backfillShareBound <= 1);
    assert.ok(load.totalOverSolo > 0, JSON.stringify(load));
    assert.equal(l.targets.length, 8);
    assert.ok(
      l.targets.every((t) => t.met !== null),
      JSON.stringify(l.targets),
    );
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
