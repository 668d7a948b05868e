import { ERROR_CODES } from './errors.js';

/** docs/errors.md, generated from the registry (npm run docs:config writes it; a test checks it). */
export function renderErrorReference(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| \`${code}\` | ${e.exit} | ${e.retryable ? 'yes' : 'no'} | ${e.summary} |`,
  );
  return [
    '# Error codes and exit codes',
    '',
    '<!-- Generated from src/errors/errors.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Every failure seamline reports carries a stable code, an actionable message and whether a retry can help.',
    'The CLI prints `seamline: CODE: message` on stderr (and `{"error": {...}}` on stdout with `--json`) and exits',
    'with the code below. Exit 0 is success; `verify` exits 9 when it finds inconsistencies. Besides the codes below,',
    'a second SIGTERM/SIGINT, or draining past `shutdownDeadlineMs`, ends the process by that signal (a shell reports 130 for SIGINT, 143 for SIGTERM); an uncaught',
    'exception in the daemon is logged (`process.uncaught_exception`) and exits 70 (`INTERNAL`). Retryable codes',
    'inside the daemon are retried with backoff and shown as stalls (docs/operations.md), not exits.',
    '',
    '| code | exit | retry can help | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
