// Entry point of the optimize job (a separate process on its own interval, e.g. for systemd):
// the same as `seamline optimize`. Pass --once for a single pass. Everything lives in src/.
process.argv.splice(2, 0, 'optimize');
await import('../src/cli/main.js');
