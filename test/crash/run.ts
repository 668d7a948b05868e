// Standalone crash harness: npm run test:crash -- [--cycles N] [--seed S] [--unsafe no-guard|no-dedupe] [--keep]
//   [--postgres]   two workers per cycle on a fresh database of the PostgreSQL at PG_TEST_URL (issue 16)
// Prints a JSON report; exits 1 when the oracle finds any violation (or, with --unsafe, when it finds none).
import { parseArgs } from 'node:util';
import { scratchDatabase, type ScratchDatabase } from '../helpers/postgres.js';
import { runHarness, totalViolations } from './harness.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '200' },
    seed: { type: 'string' },
    unsafe: { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    postgres: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const scratch: ScratchDatabase | null = values.postgres ? await scratchDatabase() : null;
try {
  const report = await runHarness({
    seed,
    maxCycles: Number(values.cycles),
    unsafe: values.unsafe,
    noKills: values.unsafe !== undefined,
    keep: values.keep,
    log: values.quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
    ...(scratch ? { postgresUrl: scratch.url } : {}),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const bad =
    totalViolations(report.violations) > 0 || (values.unsafe === undefined && report.errors.length > 0);
  process.exitCode = values.unsafe !== undefined ? (bad ? 0 : 1) : bad ? 1 : 0;
} finally {
  if (!values.keep) await scratch?.drop();
}
