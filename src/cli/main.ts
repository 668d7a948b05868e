#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, loadTestHooks, type Config } from '../config/load.js';
import { SeamlineError, toSeamlineError } from '../errors/errors.js';
import { createLogger, newRunId } from '../observability/logger.js';
import { printError } from './output.js';
import { COMMANDS, type CommandContext } from './commands.js';

const USAGE = `seamline — near-real-time vector indexing

Usage: seamline <command> [options]

Commands:
  run                          the daemon: watch, land, embed, merge, serve HTTP (until SIGTERM)
  ingest --once                land and process everything in the landing folder, then exit
  search "TEXT" [-k N] [--mode vector|fts|hybrid] [--where "FIELD OP VALUE"]...
                               query the serving table (ops = != < <= > >= in)
  status                       counts per stage, files, batches, table
  optimize [--once]            compact, prune, maintain indexes (one pass with --once, else every optimize.intervalMs)
  verify [--repair]            audit bronze ↔ ledger ↔ table; --repair replays from bronze
  reindex [--model ID] [--max-rps N] [--dry-run] [--yes]
                               rebuild into a new table from bronze, gate it, swap atomically
  rollback                     point serving back at the previous table (one step)
  quarantine [--file F] [--code C] [--since 2h|ISO] [--limit N]
                               quarantined records: file, line, code, reason, safe excerpt
  files [--limit N]            recent landed files: state, counts, landing → searchable
  batches [--limit N] [--state planned|committed|failed]
                               recent micro-batches: state, lane, counts, duration
${'' /* more commands register themselves in commands.ts */}
Options (every command):
  --config FILE                JSON config (default: SEAMLINE_CONFIG, else built-in defaults)
  --json                       machine-readable output on stdout
  -h, --help                   this help
`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  once: { type: 'boolean', default: false },
  k: { type: 'string', short: 'k' },
  mode: { type: 'string' },
  where: { type: 'string', multiple: true },
  model: { type: 'string' },
  'max-rps': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  repair: { type: 'boolean', default: false },
  file: { type: 'string' },
  code: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  state: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export async function main(argv: readonly string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new SeamlineError('USAGE', `${(e as Error).message}\n\n${USAGE}`);
    }
    const { values, positionals } = parsed;
    json = values.json;
    const [name, ...rest] = positionals;
    if (values.help || name === undefined || name === 'help') {
      process.stdout.write(USAGE);
      return name === undefined && !values.help ? 2 : 0;
    }
    const cmd = COMMANDS[name];
    if (!cmd)
      throw new SeamlineError(
        'USAGE',
        `unknown command "${name}" (known: ${Object.keys(COMMANDS).join(', ')})\n\n${USAGE}`,
      );
    const config: Config = loadConfig({ file: values.config });
    const hooks = loadTestHooks();
    const runId = newRunId();
    const logger = createLogger(config.log.level, runId, `cli.${name}`);
    const ctx: CommandContext = { config, logger, runId, json, args: rest, values, hooks };
    return await cmd(ctx);
  } catch (e) {
    const err = toSeamlineError(e);
    printError(json, err);
    return err.exitCode;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`seamline: fatal: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
