// Runs the compiled tests with node's built-in runner. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...]
// Suites run one after the other, unit → integration → e2e, and the run stops at the first suite that fails:
// a broken pure function is reported in seconds, not after minutes of end-to-end tests. Files inside a suite
// run one at a time (2-core machines, real models and subprocesses: parallel files would only fight for the
// same cores). The last line sums every suite that ran: `total: N passed, N failed, N skipped`.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

const root = path.resolve('dist/test');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = wanted.length ? wanted : ['unit', 'integration', 'e2e'];
const walk = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = path.join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
const plan = suites.map((s) => {
  try {
    return { suite: s, files: walk(path.join(root, s)).sort() };
  } catch {
    return { suite: s, files: [] };
  }
});
if (plan.every((p) => p.files.length === 0)) {
  console.error(`no test files found for ${suites.join(', ')} under ${root} (run npm run build first)`);
  process.exit(1);
}

const totals = { pass: 0, fail: 0, skipped: 0 };
/** Runs one suite, echoing its output, and adds its summary (`ℹ pass N` …) to the totals. */
function runSuite({ suite, files }) {
  return new Promise((resolve) => {
    console.log(`\n=== ${suite}: ${files.length} files ===`);
    const child = spawn(
      process.execPath,
      ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('close', (code, signal) => {
      for (const key of Object.keys(totals)) {
        const m = tail.match(new RegExp(`^\\S*\\s*${key} (\\d+)\\s*$`, 'm'));
        if (m) totals[key] += Number(m[1]);
      }
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let status = 0;
for (const p of plan) {
  if (p.files.length === 0) continue;
  status = await runSuite(p);
  if (status !== 0) {
    console.log(`\n${p.suite} failed: later suites not run (fix this one first)`);
    if (totals.fail === 0) totals.fail = 1;
    break;
  }
}
console.log(`\ntotal: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(status);
