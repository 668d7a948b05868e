import type { Command } from './context.js';
import { ingest } from './commands/ingest.js';
import { run } from './commands/run.js';
import { searchCmd } from './commands/search.js';
import { status } from './commands/status.js';

export type { Command, CommandContext } from './context.js';

/** The command registry: one file per command under commands/, one line here. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  ingest,
  run,
  search: searchCmd,
  status,
};
