import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, located from this compiled file (works for any tsc outDir). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Workspace {
  readonly dir: string;
  readonly landing: string;
  readonly data: string;
  readonly configFile: string;
  /** Env for subprocesses: points SEAMLINE_CONFIG at this workspace. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Writes a file atomically into the landing folder (via a .tmp name and rename). */
  drop(name: string, content: string | Buffer): string;
  cleanup(): void;
}

/** A temp folder with landing/, data/ and a config file (extra config merged at top level). */
export function workspace(config: Record<string, unknown> = {}): Workspace {
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-test-'));
  const landing = path.join(dir, 'landing');
  const data = path.join(dir, 'data');
  mkdirSync(landing, { recursive: true });
  const configFile = path.join(dir, 'seamline.json');
  const base = {
    dataDir: data,
    landingDir: landing,
    log: { level: 'warn' },
    completeness: { stableWindowMs: 200 },
    http: { port: 0 },
    ...config,
  };
  writeFileSync(configFile, JSON.stringify(base, null, 2));
  return {
    dir,
    landing,
    data,
    configFile,
    env: (extra = {}) => {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEAMLINE_')) env[k] = v;
      return { ...env, SEAMLINE_CONFIG: configFile, ...extra };
    },
    drop: (name, content) => {
      const p = path.join(landing, name);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(`${p}.tmp`, content);
      renameSync(`${p}.tmp`, p);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion as a subprocess. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `seamline ${args.join(' ')} timed out after ${timeoutMs} ms\nstderr: ${stderr.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the CLI with --json and parses stdout; fails with stderr when the exit code is not 0. */
export async function runJson<T = Record<string, unknown>>(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  if (r.code !== 0)
    throw new Error(
      `seamline ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`,
    );
  return JSON.parse(r.stdout) as T;
}

/** Starts a long-lived CLI process (e.g. the daemon); the caller kills it. */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Polls until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  everyMs = 200,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const jsonl = (records: readonly unknown[]): string =>
  records.map((r) => JSON.stringify(r)).join('\n') + '\n';
