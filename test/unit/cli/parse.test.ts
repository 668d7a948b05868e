import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../../src/cli/commands.js';
import { commandHelp } from '../../../src/cli/help.js';
import { parseCommandLine } from '../../../src/cli/parse.js';
import { SeamlineError } from '../../../src/errors/errors.js';

const parse = (...argv: string[]) => parseCommandLine(argv, COMMANDS, '9.9.9');

/** Asserts a USAGE error (exit 2) whose message contains `want`. */
function usageError(argv: string[], want: string | RegExp): SeamlineError {
  let caught: unknown;
  try {
    parse(...argv);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SeamlineError, `${argv.join(' ')} should be refused`);
  assert.equal(caught.code, 'USAGE');
  assert.equal(caught.exitCode, 2);
  if (typeof want === 'string') assert.ok(caught.message.includes(want), caught.message);
  else assert.match(caught.message, want);
  return caught;
}

describe('parseCommandLine', () => {
  it('--version and -V print the version, also with --json', () => {
    assert.deepEqual(parse('--version'), { kind: 'version', json: false });
    assert.deepEqual(parse('-V'), { kind: 'version', json: false });
    assert.deepEqual(parse('--version', '--json'), { kind: 'version', json: true });
  });

  it('no command prints the global help with exit 2; --help with exit 0', () => {
    const none = parse();
    assert.equal(none.kind, 'help');
    assert.equal(none.kind === 'help' && none.exitCode, 2);
    const help = parse('--help');
    assert.ok(help.kind === 'help' && help.exitCode === 0 && help.text.includes('9.9.9'));
    for (const c of COMMANDS) assert.ok(help.kind === 'help' && help.text.includes(`  ${c.name} `));
  });

  for (const c of COMMANDS) {
    it(`${c.name} --help, -h and help ${c.name} print that command's own help`, () => {
      for (const argv of [
        [c.name, '--help'],
        [c.name, '-h'],
        ['help', c.name],
        [c.name, '--no-such-flag', '--help'],
      ]) {
        const r = parse(...argv);
        assert.equal(r.kind, 'help', argv.join(' '));
        if (r.kind !== 'help') continue;
        assert.equal(r.exitCode, 0);
        assert.equal(r.text, commandHelp(c));
        assert.ok(r.text.startsWith(`seamline ${c.name} — `));
        assert.ok(r.text.includes('--config FILE') && r.text.includes('--json'));
        for (const name of Object.keys(c.options))
          assert.ok(
            r.text.includes(name.length === 1 ? `-${name}` : `--${name}`),
            `${c.name} help lists ${name}`,
          );
        assert.ok(r.text.includes('Examples:') && r.text.includes(`seamline ${c.name}`));
      }
    });

    it(`${c.name} refuses an unknown flag and every foreign flag, naming it`, () => {
      usageError([c.name, '--bogus'], `${c.name} does not take --bogus`);
      const foreign = COMMANDS.flatMap((o) =>
        o.name === c.name
          ? []
          : Object.keys(o.options)
              .filter((n) => !(n in c.options))
              .map((n) => [o.name, n] as const),
      );
      for (const [owner, name] of foreign) {
        const flag = name.length === 1 ? `-${name}` : `--${name}`;
        const e = usageError(
          [
            c.name,
            flag,
            ...(COMMANDS.find((o) => o.name === owner)!.options[name]!.kind === 'flag' ? [] : ['1']),
          ],
          `${c.name} does not take ${flag}`,
        );
        assert.ok(e.message.includes(owner), `${e.message} names the owner ${owner}`);
        assert.deepEqual(e.details, { command: c.name, option: flag });
      }
      usageError([c.name, '--version'], "use 'seamline --version'");
    });

    it(`${c.name} accepts --config FILE and --json`, () => {
      const r = parse('--config', 'x.json', c.name, '--json', ...(c.positionals ? ['q'] : []));
      assert.equal(r.kind, 'command');
      if (r.kind !== 'command') return;
      assert.equal(r.spec.name, c.name);
      assert.equal(r.values.config, 'x.json');
      assert.equal(r.values.json, true);
    });
  }

  it('the issue example: status --repair --once -k 5 is a usage error naming --repair', () => {
    usageError(
      ['status', '--repair', '--once', '-k', '5'],
      'status does not take --repair (it is an option of verify)',
    );
  });

  it('numeric flags quote the raw text', () => {
    usageError(['search', 'q', '-k', 'abc'], "-k expects a positive integer, got 'abc'");
    usageError(['search', 'q', '-k', '0'], "-k expects a positive integer, got '0'");
    usageError(['search', 'q', '-k', '2.5'], "-k expects a positive integer, got '2.5'");
    usageError(['search', 'q', '-k', '-3'], "-k expects a positive integer, got '-3'");
    usageError(['search', 'q', '-k'], '-k expects a value');
    usageError(['status', '--watch', '--interval', '1s'], "--interval expects a positive integer, got '1s'");
    usageError(['reindex', '--max-rps', 'fast'], "--max-rps expects a number ≥ 0, got 'fast'");
    usageError(
      ['search', 'q', '--mode', 'semantic'],
      "--mode expects one of vector, fts, hybrid, got 'semantic'",
    );
    const ok = parse('search', 'reset', 'router', '-k', '3', '--where', 'a = 1', '--where', 'b = 2');
    assert.ok(ok.kind === 'command');
    if (ok.kind !== 'command') return;
    assert.deepEqual(ok.args, ['reset', 'router']);
    assert.equal(ok.values.k, '3');
    assert.deepEqual(ok.values.where, ['a = 1', 'b = 2']);
    const ok2 = parse('reindex', '--max-rps', '0', '--dry-run');
    assert.ok(ok2.kind === 'command' && ok2.values['max-rps'] === '0' && ok2.values['dry-run'] === true);
  });

  it('flags take no value, commands without arguments refuse positionals, unknown commands are named', () => {
    usageError(['ingest', '--once=yes'], "--once takes no value, got 'yes'");
    usageError(['verify', 'now'], "verify takes no arguments, got 'now'");
    usageError(['frobnicate'], 'unknown command "frobnicate"');
    usageError(['help', 'frobnicate'], 'unknown command "frobnicate"');
    usageError(['--bogus'], 'unknown option --bogus');
  });

  it('-- ends options: a query may start with a dash', () => {
    const r = parse('search', '-k', '2', '--', '-negative query');
    assert.ok(r.kind === 'command' && r.args[0] === '-negative query' && r.values.k === '2');
  });

  it('flags default to false, so commands can test `=== true`', () => {
    const r = parse('verify');
    assert.ok(r.kind === 'command' && r.values.repair === false && r.values.json === false);
  });
});
