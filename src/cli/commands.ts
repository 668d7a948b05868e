import type { Command } from './context.js';
import { evalCmd } from './commands/eval.js';
import { ingest } from './commands/ingest.js';
import { optimize } from './commands/optimize.js';
import { reindex } from './commands/reindex.js';
import { rollback } from './commands/rollback.js';
import { run } from './commands/run.js';
import { searchCmd } from './commands/search.js';
import { status } from './commands/status.js';
import { verify } from './commands/verify.js';

export type { Command, CommandContext } from './context.js';

/** The command registry: one file per command under commands/, one line here. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  eval: evalCmd,
  ingest,
  optimize,
  reindex,
  rollback,
  run,
  search: searchCmd,
  status,
  verify,
};
