import { ingest } from './commands/ingest.js';
import { optimize } from './commands/optimize.js';
import { reindex } from './commands/reindex.js';
import { rollback } from './commands/rollback.js';
import { run } from './commands/run.js';
import { searchCmd } from './commands/search.js';
import { status } from './commands/status.js';
import { verify } from './commands/verify.js';
import { count, flag, int, list, num, str, type CommandSpec } from './spec.js';

export type { Command, CommandContext } from './context.js';
export type { CommandSpec, OptionSpec } from './spec.js';

/**
 * The command table: one entry per command — its flags, help and examples — and the function that runs
 * it (one file per command under commands/). The parser, `--help` and the usage errors all come from
 * this table; a flag not listed here is refused. To add a command: write commands/NAME.ts exporting a
 * `Command`, import it above and add one entry below (see docs/decisions/ops-cli-parser.md).
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    summary: 'the daemon: watch, land, embed, merge, serve HTTP (until SIGTERM)',
    options: {},
    examples: ['seamline run', 'seamline run --config /etc/seamline/seamline.json'],
    details:
      'Prints the bound address on stdout; logs go to stderr. The first SIGTERM/SIGINT drains the batch in flight, a second one exits at once.',
    run,
  },
  {
    name: 'ingest',
    summary: 'land and process everything in the landing folder, then exit',
    options: {
      once: flag('required: one pass over what is present (the continuous form is `seamline run`)'),
    },
    examples: ['seamline ingest --once', 'seamline ingest --once --json'],
    run: ingest,
  },
  {
    name: 'search',
    summary: 'query the serving table (the same implementation as POST /search)',
    args: '"TEXT"',
    positionals: true,
    options: {
      k: int('N', 'number of results (default 10)', 'k'),
      mode: str('MODE', 'vector (default), fts or hybrid', { choices: ['vector', 'fts', 'hybrid'] }),
      where: list('"FIELD OP VALUE"', 'metadata filter; ops = != < <= > >= in; repeat to AND them'),
    },
    examples: [
      'seamline search "reset the router" -k 3',
      'seamline search "wifi password" --mode hybrid',
      'seamline search "printer" --where "lang = en" --json',
    ],
    run: searchCmd,
  },
  {
    name: 'status',
    summary: 'counts per stage: files by state, read = landed + quarantined, batches, table, backlog',
    options: {
      watch: flag(
        'refresh until Ctrl-C: backlog drain with a progress bar and rate (plain lines when not a terminal)',
      ),
      interval: int('MS', 'refresh interval of --watch in milliseconds (default 1000)'),
    },
    examples: ['seamline status', 'seamline status --json', 'seamline status --watch'],
    run: status,
  },
  {
    name: 'optimize',
    summary: 'compact, prune, maintain indexes (one pass with --once, else every optimize.intervalMs)',
    options: { once: flag('one maintenance pass, then exit') },
    examples: ['seamline optimize --once', 'seamline optimize'],
    run: optimize,
  },
  {
    name: 'verify',
    summary: 'audit bronze ↔ ledger ↔ table; --repair replays from bronze',
    options: {
      repair: flag('replay the affected ids from bronze (stop the daemon first: needs the writer lease)'),
    },
    examples: ['seamline verify', 'seamline verify --repair'],
    details: 'Exit 9 (VERIFY_INCONSISTENT) when the table does not match bronze.',
    run: verify,
  },
  {
    name: 'reindex',
    summary: 'rebuild into a new table from bronze, gate it, swap atomically',
    options: {
      model: str('ID', 'embedding model of the new table (default: model.id from config)'),
      'max-rps': num('N', 'throughput cap in records/s (0 = none; default reindex.maxRecordsPerSecond)'),
      'dry-run': flag('print the estimate (records, chunks, time) and exit'),
      yes: flag('do not ask for confirmation on a terminal'),
    },
    examples: [
      'seamline reindex --dry-run --model local/use-lite-512d',
      'seamline reindex --model local/use-lite-512d --max-rps 200 --yes',
    ],
    run: reindex,
  },
  {
    name: 'rollback',
    summary: 'point serving back at the previous table (one step)',
    options: {},
    examples: ['seamline rollback'],
    run: rollback,
  },
];

// Builders kept exported here so a new entry needs no extra import.
export { count, flag, int, list, num, str };
