import { batches } from './commands/batches.js';
import { evalCmd } from './commands/eval.js';
import { files } from './commands/files.js';
import { ingest } from './commands/ingest.js';
import { optimize } from './commands/optimize.js';
import { quarantine } from './commands/quarantine.js';
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
    summary:
      'query the serving table: k documents with their best chunks as passages (same code as POST /search)',
    args: '"TEXT"',
    positionals: true,
    options: {
      k: int('N', 'number of hits (documents by default; default 10, max search.maxK)', 'k'),
      offset: count('N', 'skip the first N hits (pagination; offset + k ≤ search.maxWindow)'),
      mode: str('MODE', 'vector, fts or hybrid (default search.defaultMode: hybrid)', {
        choices: ['vector', 'fts', 'hybrid'],
      }),
      where: list(
        '"FIELD OP VALUE"',
        'filter, pushed down before top-k; ops = != < <= > >= in; repeat to AND them',
      ),
      granularity: str('G', 'document (default) or chunk', { choices: ['document', 'chunk'] }),
      passages: count('N', 'best-matching chunks per document hit (default search.passages)'),
      'vector-weight': num(
        'W',
        "hybrid: weight of the vector side, 0..1 (default: the model's documented default)",
      ),
      fusion: str('F', "hybrid: rrf or minmax (default: the model's documented default)", {
        choices: ['rrf', 'minmax'],
      }),
      local: flag('search in this process even when a daemon of the same data folder is running'),
    },
    examples: [
      'seamline search "reset the router" -k 3',
      'seamline search "wifi password" --mode fts',
      'seamline search "printer" --where "metadata.lang = en" --json',
      'seamline search "router" --offset 10 -k 10 --granularity chunk',
    ],
    run: searchCmd,
  },
  {
    name: 'eval',
    summary: 'nDCG@10, recall@10/100 and MRR@10 per search mode over BEIR-format queries and qrels',
    options: {
      queries: str('FILE', 'required: queries JSONL ({"_id", "text"} per line)'),
      qrels: str('FILE', 'required: qrels TSV (query-id, corpus-id, score; header row)'),
      modes: str('LIST', 'comma-separated modes (default vector,fts,hybrid)'),
      'vector-weight': num('W', 'hybrid: weight of the vector side'),
      fusion: str('F', 'hybrid: rrf or minmax', { choices: ['rrf', 'minmax'] }),
    },
    examples: [
      'seamline eval --queries queries.jsonl --qrels qrels/train.tsv',
      'seamline eval --queries q.jsonl --qrels qrels.tsv --modes fts,hybrid --json',
    ],
    run: evalCmd,
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
  {
    name: 'quarantine',
    summary: 'quarantined records: file, line, code, reason, a safe excerpt of the raw bytes',
    options: {
      file: str('F', 'only records from files whose name contains F'),
      code: str('C', 'only this quarantine code (e.g. BAD_TIMESTAMP)'),
      since: str('T', 'only records quarantined since T: 90s, 15m, 2h, 7d or an ISO-8601 time with zone'),
      limit: int('N', 'at most N records (default 20, max 1000)'),
    },
    examples: [
      'seamline quarantine --limit 20',
      'seamline quarantine --code BAD_TIMESTAMP --since 2h --json',
    ],
    run: quarantine,
  },
  {
    name: 'files',
    summary: 'recent landed files: state, counts, published, landing → searchable',
    options: { limit: int('N', 'at most N files (default 20, max 1000)') },
    examples: ['seamline files', 'seamline files --limit 100 --json'],
    run: files,
  },
  {
    name: 'batches',
    summary: 'recent micro-batches: state, lane, counts, duration',
    options: {
      limit: int('N', 'at most N batches (default 20, max 1000)'),
      state: str('S', 'only batches in this state', { choices: ['planned', 'committed', 'failed'] }),
    },
    examples: ['seamline batches', 'seamline batches --state failed --json'],
    run: batches,
  },
];

// Builders kept exported here so a new entry needs no extra import.
export { count, flag, int, list, num, str };
