import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SeamlineError } from '../errors/errors.js';
import { commandHelp, globalHelp } from './help.js';
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec.js';

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedCommandLine =
  | { readonly kind: 'help'; readonly text: string; readonly exitCode: number }
  | { readonly kind: 'version'; readonly json: boolean }
  | {
      readonly kind: 'command';
      readonly spec: CommandSpec;
      readonly values: OptionValues;
      readonly args: readonly string[];
    };

const usage = (message: string, hint: string, details: Record<string, unknown> = {}): SeamlineError =>
  new SeamlineError('USAGE', `${message}\n${hint}`, { details });

/** Validates one option value; returns the message naming the flag and quoting the raw text. */
export function checkOptionValue(flagName: string, o: OptionSpec, raw: string): string | null {
  const q = `'${raw}'`;
  switch (o.kind) {
    case 'int':
      return /^[0-9]+$/.test(raw) && Number(raw) >= 1 && Number.isSafeInteger(Number(raw))
        ? null
        : `${flagName} expects a positive integer, got ${q}`;
    case 'count':
      return /^[0-9]+$/.test(raw) && Number.isSafeInteger(Number(raw))
        ? null
        : `${flagName} expects an integer ≥ 0, got ${q}`;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) && Number(raw) >= 0
        ? null
        : `${flagName} expects a number ≥ 0, got ${q}`;
    case 'string':
    case 'list':
      if (o.choices && !o.choices.includes(raw))
        return `${flagName} expects one of ${o.choices.join(', ')}, got ${q}`;
      return null;
    case 'flag':
      return null;
  }
}

function toParseArgsOptions(options: Readonly<Record<string, OptionSpec>>): ParseArgsConfig['options'] {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, o] of Object.entries(options))
    out[name] = {
      type: o.kind === 'flag' ? 'boolean' : 'string',
      ...(o.kind === 'list' ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  return out;
}

/** Finds the command: the first argument that is not a global option (or a global option's value). */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { name: argv[i + 1], rest: [...rest, ...argv.slice(i + 2)] };
    if (!a.startsWith('-') || a === '-') return { name: a, rest: [...rest, ...argv.slice(i + 1)] };
    rest.push(a);
    if (a === '--config' && i + 1 < argv.length) rest.push(argv[++i]!);
  }
  return { name: undefined, rest };
}

/** Owners of an option name, to say "that flag belongs to verify" when given to status. */
function ownersOf(commands: readonly CommandSpec[], name: string): string[] {
  return commands
    .filter((c) => Object.entries(c.options).some(([n, o]) => n === name || o.short === name))
    .map((c) => c.name);
}

/**
 * Parses a command line against the command table. Pure: returns what to do, or throws a USAGE
 * SeamlineError (exit 2) whose message names the offending flag or argument.
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly CommandSpec[],
  version: string,
): ParsedCommandLine {
  const { name, rest } = splitCommand(argv);
  const top = new Set(rest);
  if (name === undefined) {
    if (top.has('--version') || top.has('-V')) return { kind: 'version', json: top.has('--json') };
    const wantsHelp = top.has('--help') || top.has('-h');
    const unknown = rest.find(
      (a) => a.startsWith('-') && !['--help', '-h', '--json', '--config'].includes(a.split('=')[0]!),
    );
    if (unknown !== undefined && !wantsHelp)
      throw usage(`unknown option ${unknown.split('=')[0]}`, "Run 'seamline --help' for usage.", {
        option: unknown,
      });
    return { kind: 'help', text: globalHelp(commands, version), exitCode: wantsHelp ? 0 : 2 };
  }
  if (name === 'help') {
    const target = rest.find((a) => !a.startsWith('-'));
    const spec = target === undefined ? undefined : commands.find((c) => c.name === target);
    if (target !== undefined && !spec)
      throw usage(
        `unknown command "${target}" (known: ${commands.map((c) => c.name).join(', ')})`,
        "Run 'seamline --help' for usage.",
      );
    return { kind: 'help', text: spec ? commandHelp(spec) : globalHelp(commands, version), exitCode: 0 };
  }
  const spec = commands.find((c) => c.name === name);
  if (!spec)
    throw usage(
      `unknown command "${name}" (known: ${commands.map((c) => c.name).join(', ')})`,
      "Run 'seamline --help' for usage.",
      { command: name },
    );
  const hint = `Run 'seamline ${spec.name} --help' for usage.`;
  const all: Record<string, OptionSpec> = { ...spec.options, ...GLOBAL_OPTIONS };
  const { tokens } = parseArgs({
    args: rest,
    options: toParseArgsOptions(all),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  // --help wins over everything else, so `seamline status --bogus --help` still shows the help.
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help'))
    return { kind: 'help', text: commandHelp(spec), exitCode: 0 };
  const values: OptionValues = {};
  for (const [n, o] of Object.entries(all)) if (o.kind === 'flag') values[n] = false;
  const args: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (spec.positionals !== true)
        throw usage(`${spec.name} takes no arguments, got '${t.value}'`, hint, {
          command: spec.name,
          argument: t.value,
        });
      args.push(t.value);
      continue;
    }
    const o = all[t.name];
    if (!o) {
      if (t.name === 'version' || t.name === 'V')
        throw usage(`${t.rawName} is not an option of ${spec.name}; use 'seamline --version'`, hint, {
          command: spec.name,
          option: t.rawName,
        });
      const owners = ownersOf(commands, t.name).filter((c) => c !== spec.name);
      throw usage(
        `${spec.name} does not take ${t.rawName}${owners.length ? ` (it is an option of ${owners.join(', ')})` : ''}`,
        hint,
        { command: spec.name, option: t.rawName },
      );
    }
    const flagName = t.rawName.startsWith('--') ? `--${t.name}` : t.rawName;
    if (o.kind === 'flag') {
      if (t.value !== undefined)
        throw usage(`${flagName} takes no value, got '${t.value}'`, hint, {
          command: spec.name,
          option: flagName,
        });
      values[t.name] = true;
      continue;
    }
    if (t.value === undefined)
      throw usage(`${flagName} expects ${o.value ? `a value (${o.value})` : 'a value'}`, hint, {
        command: spec.name,
        option: flagName,
      });
    const bad = checkOptionValue(flagName, o, t.value);
    if (bad) throw usage(bad, hint, { command: spec.name, option: flagName, value: t.value });
    if (o.kind === 'list') values[t.name] = [...((values[t.name] as string[] | undefined) ?? []), t.value];
    else values[t.name] = t.value;
  }
  return { kind: 'command', spec, values, args };
}
