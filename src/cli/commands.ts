import type { Command } from './context.js';
import { batches } from './commands/batches.js';
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

export type { Command, CommandContext } from './context.js';

/** The command registry: one file per command under commands/, one line here. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  batches,
  files,
  ingest,
  optimize,
  quarantine,
  reindex,
  rollback,
  run,
  search: searchCmd,
  status,
  verify,
};
