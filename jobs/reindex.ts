// Entry point of the on-demand reindex job (cron, a runbook, CI): the same as `seamline reindex`,
// e.g. `node dist/jobs/reindex.js --model local/use-lite-512d --yes`. Everything lives in src/.
process.argv.splice(2, 0, 'reindex');
await import('../src/cli/main.js');
