import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands.js';
import { CLI, runCli, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = path.join(ROOT, 'config', 'sample');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Runs the CLI under `script`, so stdin/stdout/stderr are a real terminal (a pty). */
function underTty(args: readonly string[], env: NodeJS.ProcessEnv): { code: number | null; out: string } {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync('script', ['-qfec', [process.execPath, CLI, ...args].map(q).join(' '), '/dev/null'], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const dropSample = (ws: Workspace): void => {
  for (const f of ['hello.jsonl', 'hello.manifest.json']) ws.drop(f, readFileSync(path.join(SAMPLE, f)));
};

describe('CLI surface (subprocess)', () => {
  let ws: Workspace;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('--version and -V print the package version and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], ws.env());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
    const j = await runCli(['--version', '--json'], ws.env());
    assert.deepEqual(JSON.parse(j.stdout), { name: 'seamline', version: VERSION });
  });

  it('every command has its own --help (exit 0, stdout)', async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c.name, '--help'], ws.env());
      assert.equal(r.code, 0, `${c.name} --help: ${r.stderr}`);
      assert.ok(r.stdout.startsWith(`seamline ${c.name} — ${c.summary}\n`), r.stdout);
      assert.ok(r.stdout.includes(`Usage: seamline ${c.name}`));
      assert.ok(!r.stdout.includes('Commands:'), `${c.name} --help is not the global help`);
    }
  });

  it('an unknown or foreign flag is a usage error naming the flag, for every command (exit 2)', async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c.name, '--bogus'], ws.env());
      assert.equal(r.code, 2, `${c.name} --bogus exit`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^seamline: USAGE: ${c.name} does not take --bogus\\n`));
    }
    const issue = await runCli(['status', '--repair', '--once', '-k', '5'], ws.env());
    assert.equal(issue.code, 2);
    assert.match(issue.stderr, /status does not take --repair \(it is an option of verify\)/);
  });

  it('-k abc says what it expected and quotes the text; --json puts the error on stdout', async () => {
    const r = await runCli(['search', 'router', '-k', 'abc'], ws.env());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-k expects a positive integer, got 'abc'/);
    const j = await runCli(['search', 'router', '-k', 'abc', '--json'], ws.env());
    assert.equal(j.code, 2);
    const body = JSON.parse(j.stdout) as { error: { code: string; message: string; details: unknown } };
    assert.equal(body.error.code, 'USAGE');
    assert.deepEqual(body.error.details, { command: 'search', option: '-k', value: 'abc' });
  });

  it('logs are JSON lines when stderr is a pipe, pretty lines on a terminal, JSON on a terminal with log.format json', async () => {
    const w = workspace({ log: { level: 'info' } });
    try {
      dropSample(w);
      const piped = await runCli(['ingest', '--once'], w.env());
      assert.equal(piped.code, 0, piped.stderr);
      const lines = piped.stderr.trim().split('\n');
      assert.ok(lines.length >= 2, piped.stderr);
      for (const l of lines) assert.equal(typeof (JSON.parse(l) as { msg: string }).msg, 'string', l);
      assert.ok(lines.some((l) => (JSON.parse(l) as { event?: string }).event === 'batch.committed'));
      // The sample declares only contract fields: no schema drift warning.
      assert.ok(!piped.stderr.includes('schema.drift'), piped.stderr);

      dropSample(w); // same bytes again: nothing new, but the model still loads and logs
      const tty = underTty(['ingest', '--once'], w.env());
      assert.equal(tty.code, 0, tty.out);
      assert.match(
        tty.out,
        /\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*cli\.ingest.* model\.loaded: model local\/glove-sif-100d loaded/,
      );
      assert.ok(!/^\{"level"/m.test(tty.out), tty.out);

      const forced = underTty(['ingest', '--once'], w.env({ SEAMLINE_LOG__FORMAT: 'json' }));
      assert.equal(forced.code, 0, forced.out);
      assert.match(forced.out, /^\{"level":30,.*"event":"model\.loaded"/m);
    } finally {
      w.cleanup();
    }
  });

  it('status --watch shows the backlog draining (plain lines off a terminal) and exits 0 on SIGINT', async () => {
    const w = workspace();
    try {
      dropSample(w);
      const watch = startCli(['status', '--watch', '--interval', '200'], w.env());
      await waitFor(() => /file\(s\) waiting/.test(watch.output().stdout), 60_000, 'a first watch line');
      const summary = await runJson<{ records: number }>(['ingest', '--once'], w.env());
      assert.equal(summary.records, 5);
      await waitFor(
        () => /5\/5 records, backlog 0 \(100%\), [\d.,]+ rec\/s, drained$/m.test(watch.output().stdout),
        60_000,
        'the drained line',
      );
      const lines = watch.output().stdout.trim().split('\n');
      for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z \d+\/\d+ records, backlog \d+/);
      watch.child.kill('SIGINT');
      const r = await watch.exited;
      assert.equal(r.code, 0, r.stderr);
    } finally {
      w.cleanup();
    }
  });
});
