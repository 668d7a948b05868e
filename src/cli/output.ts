import type { SeamlineError } from '../errors/errors.js';

/** Command output goes to stdout (logs go to stderr), as JSON with --json. */
export function printOut(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

export function printError(json: boolean, e: SeamlineError): void {
  if (json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() }, null, 2)}\n`);
  process.stderr.write(`seamline: ${e.code}: ${e.message}\n`);
}
