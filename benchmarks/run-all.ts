// npm run bench: every benchmark in sequence, each in its own process (clean RSS figures), then the
// targets table. Flags (--quick, --out) pass through. Usage: node dist/benchmarks/run-all.js [--quick] [--out DIR]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/args.js';
import { round } from './lib/measure.js';
import { machine, table, writeText } from './lib/report.js';
import { targets } from './lib/targets.js';

const SCRIPTS = ['embed-profile', 'latency', 'backfill', 'recommend'] as const;

function main(): void {
  const f = parseFlags({});
  const t0 = Date.now();
  const pass = [...(f.quick ? ['--quick'] : []), '--out', f.out];
  const m = machine();
  for (const s of SCRIPTS) {
    process.stdout.write(`\n=== ${s} ===\n`);
    const script = fileURLToPath(new URL(`./${s}.js`, import.meta.url));
    const r = spawnSync(process.execPath, [script, ...pass], { stdio: 'inherit' });
    if (r.status !== 0) {
      process.stderr.write(`${s} failed (exit ${r.status ?? r.signal})\n`);
      process.exit(1);
    }
  }
  const rows = targets(f.out);
  const t = table(
    ['target', 'measured', 'status'],
    rows.map((r) => [r.target, r.measured, r.met === null ? 'not measured' : r.met ? 'met' : 'NOT met']),
  );
  const wall = round((Date.now() - t0) / 1000, 0);
  const summary = `targets (${m.cpus} × ${m.cpuModel}, load ${m.loadAvgAtStart} at start, ${wall} s${f.quick ? ', QUICK' : ''})\n${t}\n`;
  writeText(f.out, 'targets.md', summary);
  process.stdout.write(`\n=== targets ===\n${summary}`);
}

main();
