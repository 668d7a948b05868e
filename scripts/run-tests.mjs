// Runs the compiled tests with node's built-in runner. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...]
// Suites run one after the other, unit → integration → e2e, and the run stops at the first suite that fails:
// a broken pure function is reported in seconds, not after minutes of end-to-end tests. Files inside a suite
// run one at a time (2-core machines, real models and subprocesses: parallel files would only fight for the
// same cores). The last line sums every suite that ran: `total: N passed, N failed, N skipped`.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// The PostgreSQL tests (issue 16) need a real server. CI (.ci/run) starts one and exports
// PG_TEST_URL; otherwise this runner starts a throwaway one (for integration/e2e runs) and stops it
// at the end. If that fails the reason is passed on and those tests FAIL with it (they never skip).
let pgDir = null;
if (!process.env.PG_TEST_URL && plan.some((p) => p.suite !== 'unit' && p.files.length)) {
  const { startServer } = await import('./pg-test-server.mjs');
  pgDir = mkdtempSync(path.join(tmpdir(), 'seamline-pg-'));
  try {
    const s = await startServer(pgDir);
    process.env.PG_TEST_URL = s.url;
    console.log(`PostgreSQL test server started on 127.0.0.1:${s.port} (${pgDir})`);
  } catch (e) {
    process.env.PG_TEST_ERROR = e.message.split('\n')[0];
    console.error(`could not start a PostgreSQL test server, its tests will fail: ${e.message}`);
  }
}
async function stopPg() {
  if (!pgDir) return;
  const { stopServer } = await import('./pg-test-server.mjs');
  try {
    stopServer(pgDir);
  } catch (e) {
    console.error(`stopping the PostgreSQL test server in ${pgDir} failed: ${e.message}`);
  }
  pgDir = null;
}
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void stopPg().then(() => process.exit(130)));

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
await stopPg();
console.log(`\ntotal: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(status);
