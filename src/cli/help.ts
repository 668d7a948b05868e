import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec.js';

/** `-k, --k N` / `--mode MODE` / `-h, --help`: how an option is written in help. */
export function optionSynopsis(name: string, o: OptionSpec): string {
  const long = name.length === 1 ? `-${name}` : `--${name}`;
  const names = o.short && o.short !== name ? `-${o.short}, ${long}` : long;
  const value = o.kind === 'flag' ? '' : ` ${o.choices ? o.choices.join('|') : (o.value ?? 'VALUE')}`;
  return `${names}${value}${o.kind === 'list' ? ' (repeatable)' : ''}`;
}

const table = (rows: readonly (readonly [string, string])[], indent = 2): string[] => {
  const w = Math.max(...rows.map(([a]) => (a.length <= 28 ? a.length : 0))) + 2;
  return rows.map(([a, b]) =>
    a.length + 2 > w
      ? `${' '.repeat(indent)}${a}\n${' '.repeat(indent + w)}${b}`
      : `${' '.repeat(indent)}${a.padEnd(w)}${b}`,
  );
};

/** The short usage line of a command, built from its table entry. */
export function usageLine(spec: CommandSpec): string {
  const opts = Object.entries(spec.options).map(
    ([n, o]) => `[${optionSynopsis(n, o).replace(' (repeatable)', '')}]`,
  );
  return ['seamline', spec.name, ...(spec.args ? [spec.args] : []), ...opts, '[--config FILE] [--json]'].join(
    ' ',
  );
}

/** `seamline <cmd> --help`: summary, usage, the command's options, the global ones, examples. */
export function commandHelp(spec: CommandSpec): string {
  const own = Object.entries(spec.options);
  return [
    `seamline ${spec.name} — ${spec.summary}`,
    '',
    `Usage: ${usageLine(spec)}`,
    ...(spec.details ? ['', spec.details] : []),
    ...(own.length ? ['', 'Options:', ...table(own.map(([n, o]) => [optionSynopsis(n, o), o.help]))] : []),
    '',
    'Global options:',
    ...table(Object.entries(GLOBAL_OPTIONS).map(([n, o]) => [optionSynopsis(n, o), o.help])),
    ...(spec.examples.length ? ['', 'Examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
    '',
    'Exit codes: 0 success, 2 usage or config error; the others are listed in docs/errors.md.',
    '',
  ].join('\n');
}

/** `seamline --help`: every command of the table with its summary. */
export function globalHelp(commands: readonly CommandSpec[], version: string): string {
  return [
    `seamline ${version} — near-real-time vector indexing`,
    '',
    'Usage: seamline <command> [options]',
    '',
    'Commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'Global options:',
    ...table([
      ...Object.entries(GLOBAL_OPTIONS).map(([n, o]): [string, string] => [optionSynopsis(n, o), o.help]),
      ['-V, --version', 'print the version'],
    ]),
    '',
    "Run 'seamline <command> --help' for a command's options and examples.",
    '',
  ].join('\n');
}
