import type { Config, TestHookSpec } from '../config/load.js';
import type { TestHooks } from '../daemon/pipeline.js';
import type { Logger } from '../observability/logger.js';
import { faultHook } from '../runtime/fault.js';

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly runId: string;
  readonly json: boolean;
  readonly args: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly hooks: TestHookSpec;
}

/** A CLI command: returns the process exit code (0 = success; see docs/errors.md). */
export type Command = (ctx: CommandContext) => Promise<number>;

export const hooksOf = (ctx: CommandContext): TestHooks => ({
  fault: faultHook(ctx.hooks.fault),
  unsafe: ctx.hooks.unsafe,
});
