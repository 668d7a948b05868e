import type { Command } from './context.js';

/**
 * How an option's value is read. `flag` takes none; `string` one; `list` may repeat; `int` a positive
 * integer; `count` an integer ≥ 0; `number` a finite number ≥ 0. Numeric values are validated by the
 * parser (the message quotes the raw text) and reach the command as the raw string.
 */
export type OptionKind = 'flag' | 'string' | 'list' | 'int' | 'count' | 'number';

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly help: string;
  /** One-letter alias, e.g. `k` for `-k`. */
  readonly short?: string;
  /** Placeholder shown in help, e.g. `N`, `FILE`. */
  readonly value?: string;
  /** The only accepted values (a `string` option). */
  readonly choices?: readonly string[];
}

export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** What follows the command name in the usage line besides options, e.g. `"TEXT"`. */
  readonly args?: string;
  /** Whether positional arguments are accepted (default: none). */
  readonly positionals?: boolean;
  /** The command's own options (the global ones, --config/--json/--help, are added by the parser). */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Shell lines shown under "Examples" in `seamline <cmd> --help`. */
  readonly examples: readonly string[];
  /** Extra paragraph for `--help` (optional). */
  readonly details?: string;
  readonly run: Command;
}

/** Option builders, so a table entry stays one readable line per flag. */
export const flag = (help: string, short?: string): OptionSpec => ({ kind: 'flag', help, short });
export const str = (
  value: string,
  help: string,
  more: { short?: string; choices?: readonly string[] } = {},
): OptionSpec => ({ kind: 'string', value, help, ...more });
export const list = (value: string, help: string, short?: string): OptionSpec => ({
  kind: 'list',
  value,
  help,
  short,
});
export const int = (value: string, help: string, short?: string): OptionSpec => ({
  kind: 'int',
  value,
  help,
  short,
});
export const count = (value: string, help: string, short?: string): OptionSpec => ({
  kind: 'count',
  value,
  help,
  short,
});
export const num = (value: string, help: string, short?: string): OptionSpec => ({
  kind: 'number',
  value,
  help,
  short,
});

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: str('FILE', 'JSON config (default: $SEAMLINE_CONFIG, else the built-in defaults)'),
  json: flag('machine-readable output on stdout'),
  help: flag('show this help', 'h'),
};
