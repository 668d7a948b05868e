import assert from 'node:assert/strict';
import { startCli, waitFor, workspace, type Workspace } from './cli.js';

export type CliProcess = ReturnType<typeof startCli>;

/** The port a `run --json` daemon printed on stdout (its http.listening line). */
export async function listeningPort(d: CliProcess, timeoutMs = 30_000): Promise<number> {
  const line = await waitFor(
    () =>
      d
        .output()
        .stdout.split('\n')
        .find((l) => l.includes('http.listening')),
    timeoutMs,
    'the http.listening line',
  );
  return (JSON.parse(line) as { port: number }).port;
}

/** GET on the daemon's loopback port; `timeoutMs` undefined = no client timeout. */
export async function httpGet(
  port: number,
  p: string,
  timeoutMs?: number,
): Promise<{ status: number; text: string }> {
  const r = await fetch(
    `http://127.0.0.1:${port}${p}`,
    timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) },
  );
  return { status: r.status, text: await r.text() };
}

/** Records published to the serving table, as /status reports them. */
export const published = async (port: number, timeoutMs?: number): Promise<number> =>
  (
    JSON.parse((await httpGet(port, '/status', timeoutMs)).text) as {
      table?: { counters?: { recordsPublished?: number } };
    }
  ).table?.counters?.recordsPublished ?? 0;

/**
 * The workspaces and subprocesses of one e2e file: each is tracked when made, and `cleanup()` (call it
 * from `after`) SIGKILLs what still runs and removes every workspace.
 */
export class E2eFixture {
  readonly workspaces: Workspace[] = [];
  readonly processes: CliProcess[] = [];

  workspace(config: Record<string, unknown> = {}): Workspace {
    const w = workspace(config);
    this.workspaces.push(w);
    return w;
  }

  start(args: readonly string[], env: NodeJS.ProcessEnv): CliProcess {
    const p = startCli(args, env);
    this.processes.push(p);
    return p;
  }

  /** `run --json` in the workspace; resolves with the process and its HTTP port. */
  async daemon(w: Workspace, timeoutMs = 30_000): Promise<{ d: CliProcess; port: number }> {
    const d = this.start(['run', '--json'], w.env());
    return { d, port: await listeningPort(d, timeoutMs) };
  }

  cleanup(): void {
    for (const k of this.processes)
      if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
    for (const w of this.workspaces) w.cleanup();
  }
}

/** Runs `body` against a plain `run` daemon (human output), then SIGTERMs it and expects exit 0. */
export async function withDaemon(ws: Workspace, body: (d: CliProcess) => Promise<void>): Promise<void> {
  const d = startCli(['run'], ws.env());
  try {
    await waitFor(
      () => /listening on/.test(d.output().stdout),
      60_000,
      `daemon start\n${d.output().stderr.slice(-2000)}`,
    );
    await body(d);
  } finally {
    d.child.kill('SIGTERM');
    const r = await d.exited;
    assert.equal(r.code, 0, `daemon exit code\n${r.stderr.slice(-3000)}`);
  }
}
