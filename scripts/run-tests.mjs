// Runs the compiled tests with node's built-in runner. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...]
// Folders run in order unit → integration → e2e; files inside a folder run one at a time (2-core machines,
// real models and subprocesses: parallel files would only fight for the same cores).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const root = path.resolve('dist/test');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = wanted.length ? wanted : ['unit', 'integration', 'e2e'];
const walk = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = path.join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
const files = suites.flatMap((s) => {
  try {
    return walk(path.join(root, s)).sort();
  } catch {
    return [];
  }
});
if (files.length === 0) {
  console.error(`no test files found for ${suites.join(', ')} under ${root} (run npm run build first)`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
