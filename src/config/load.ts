import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { SeamlineError } from '../errors/errors.js';
import { ConfigSchema, type ParsedConfig } from './schema.js';

/** The frozen, normalized configuration every part of seamline receives. Paths are absolute. */
export type Config = DeepReadonly<
  Omit<ParsedConfig, 'model'> & {
    model: Omit<ParsedConfig['model'], 'modelsDir'> & { modelsDir: string };
    /** Absolute path of the config file, or null when running on defaults. */
    configFile: string | null;
    /** False when landingDir is the default (`./landing`, created on first use); true when set in the file or env. */
    landingDirExplicit: boolean;
  }
>;

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Env vars that are not config keys (test hooks and the config path itself). */
const RESERVED_ENV = new Set(['SEAMLINE_CONFIG', 'SEAMLINE_FAULT', 'SEAMLINE_UNSAFE', 'SEAMLINE_RUN_ID']);

/** The seamline package root (holds package.json and models/), found from this module's location. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new SeamlineError('INTERNAL', 'cannot locate the seamline package root');
    dir = up;
  }
}

function envKeyToPath(key: string): string[] {
  // SEAMLINE_PROCESSOR__TRIGGER_INTERVAL_MS -> ['processor', 'triggerIntervalMs']
  return key
    .slice('SEAMLINE_'.length)
    .split('__')
    .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let obj = target;
  for (const k of keys.slice(0, -1)) {
    const next = obj[k];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      const fresh: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      obj[k] = fresh;
      obj = fresh;
    } else obj = next as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]!] = value;
}

function formatIssues(error: z.ZodError, origin: string): string {
  return error.issues
    .map((i) => {
      const key = i.path.length ? i.path.join('.') : '(root)';
      let extra = '';
      if (i.code === 'invalid_value' && 'values' in i)
        extra = ` (allowed: ${(i.values as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`;
      if (i.code === 'unrecognized_keys' && 'keys' in i)
        return `${origin}: unknown key(s) ${i.keys.map((k) => (key === '(root)' ? k : `${key}.${k}`)).join(', ')}`;
      return `${origin}: ${key}: ${i.message}${extra}`;
    })
    .join('\n');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export interface LoadConfigOptions {
  /** Path of a JSON config file; when absent, SEAMLINE_CONFIG, then defaults. */
  readonly file?: string | undefined;
  /** Environment to read SEAMLINE_* overrides from (this is the only place seamline reads env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative paths when there is no config file. Default: process.cwd(). */
  readonly cwd?: string;
  /** Config as an object instead of a file (the library API); when set, no file is read. */
  readonly values?: Readonly<Record<string, unknown>>;
}

/** Parse → defaults → normalize → freeze, once. Errors name the key and the allowed values. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const fileArg = opts.values ? undefined : (opts.file ?? env.SEAMLINE_CONFIG);
  let raw: Record<string, unknown> = opts.values ? structuredClone(opts.values) : {};
  let configFile: string | null = null;
  if (fileArg !== undefined && fileArg !== '') {
    configFile = path.resolve(cwd, fileArg);
    if (!existsSync(configFile)) {
      throw new SeamlineError(
        'CONFIG_NOT_FOUND',
        `config file ${configFile} does not exist (pass --config FILE or unset SEAMLINE_CONFIG)`,
      );
    }
    let text: string;
    try {
      // A UTF-8 byte order mark (Windows editors) is accepted, as landing files accept one.
      text = readFileSync(configFile, 'utf8').replace(/^\uFEFF/, '');
    } catch (e) {
      throw new SeamlineError('CONFIG_INVALID', `cannot read config file ${configFile}`, { cause: e });
    }
    try {
      // JSON.parse creates own "__proto__" properties rather than touching prototypes; zod's strict
      // object then reports them as unknown keys.
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Error('the top level must be a JSON object');
      }
      raw = parsed as Record<string, unknown>;
    } catch (e) {
      throw new SeamlineError(
        'CONFIG_INVALID',
        `config file ${configFile} is not valid JSON: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  const envKeys = Object.keys(env)
    .filter((k) => k.startsWith('SEAMLINE_') && !RESERVED_ENV.has(k))
    .sort();
  for (const k of envKeys) setPath(raw, envKeyToPath(k), parseEnvValue(env[k] ?? ''));

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const origin = configFile ?? 'config';
    throw new SeamlineError(
      'CONFIG_INVALID',
      `invalid configuration\n${formatIssues(result.error, origin)}${envKeys.length ? `\n(env overrides applied: ${envKeys.join(', ')})` : ''}`,
    );
  }
  const c = result.data;
  const base = configFile ? path.dirname(configFile) : cwd;
  if (c.chunking.overlapTokens >= c.chunking.maxTokens) {
    throw new SeamlineError(
      'CONFIG_INVALID',
      `chunking.overlapTokens (${c.chunking.overlapTokens}) must be less than chunking.maxTokens (${c.chunking.maxTokens})`,
    );
  }
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(c.http.host) || c.http.host.startsWith('127.');
  if (c.http.enabled && !loopback && c.http.token === undefined) {
    throw new SeamlineError(
      'CONFIG_INVALID',
      `http.token is required when http.host (${c.http.host}) is not a loopback address`,
    );
  }
  const normalized = {
    ...c,
    configFile,
    landingDirExplicit: raw.landingDir !== undefined,
    dataDir: path.resolve(base, c.dataDir),
    landingDir: path.resolve(base, c.landingDir),
    model: {
      ...c.model,
      modelsDir: c.model.modelsDir
        ? path.resolve(base, c.model.modelsDir)
        : path.join(packageRoot(), 'models'),
    },
    // A folder is resolved like dataDir; an object-store URI (s3://…) is LanceDB's to read.
    store:
      c.store.uri !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(c.store.uri)
        ? { ...c.store, uri: path.resolve(base, c.store.uri) }
        : c.store,
  };
  return deepFreeze(normalized);
}

/** Test-only switches, read here because this is the one module that reads process.env. */
export interface TestHookSpec {
  readonly fault: string | undefined;
  readonly unsafe: ReadonlySet<'no-guard' | 'no-dedupe'>;
}

export function loadTestHooks(env: NodeJS.ProcessEnv = process.env): TestHookSpec {
  const unsafe = new Set<'no-guard' | 'no-dedupe'>();
  for (const u of (env.SEAMLINE_UNSAFE ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (u !== 'no-guard' && u !== 'no-dedupe')
      throw new SeamlineError(
        'CONFIG_INVALID',
        `SEAMLINE_UNSAFE: unknown switch "${u}" (known: no-guard, no-dedupe)`,
      );
    unsafe.add(u);
  }
  return { fault: env.SEAMLINE_FAULT || undefined, unsafe };
}
