// Entry point of the long-lived daemon (e.g. for systemd): the same as `seamline run`.
// Everything it is made of lives in src/; this file only selects the command.
process.argv.splice(2, 0, 'run');
await import('../src/cli/main.js');
