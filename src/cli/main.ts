#!/usr/bin/env node
import { loadConfig, loadTestHooks, type Config } from '../config/load.js';
import { toSeamlineError } from '../errors/errors.js';
import { createLogger, newRunId } from '../observability/logger.js';
import { COMMANDS } from './commands.js';
import type { CommandContext } from './context.js';
import { printError } from './output.js';
import { parseCommandLine } from './parse.js';
import { packageInfo } from './version.js';

/** Runs one command line; returns the exit code (0 = success, others in docs/errors.md). */
export async function main(argv: readonly string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { version } = packageInfo();
    const parsed = parseCommandLine(argv, COMMANDS, version);
    if (parsed.kind === 'version') {
      process.stdout.write(
        parsed.json ? `${JSON.stringify({ name: 'seamline', version })}\n` : `${version}\n`,
      );
      return 0;
    }
    if (parsed.kind === 'help') {
      (parsed.exitCode === 0 ? process.stdout : process.stderr).write(parsed.text);
      return parsed.exitCode;
    }
    const { spec, values, args } = parsed;
    json = values.json === true;
    const config: Config = loadConfig({
      file: typeof values.config === 'string' ? values.config : undefined,
    });
    const hooks = loadTestHooks();
    const runId = newRunId();
    const logger = createLogger(config.log.level, runId, `cli.${spec.name}`, { format: config.log.format });
    const ctx: CommandContext = { config, logger, runId, json, args, values, hooks };
    return await spec.run(ctx);
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
    process.stderr.write(`seamline: fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
