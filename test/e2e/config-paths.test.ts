import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, runCli, workspace, type Workspace } from '../helpers/cli.js';

// Issue 12 item 6: folder layouts that point at themselves (or at nothing) are refused with the key
// named and exit 2 (CONFIG_INVALID), before anything is created or watched. Item 7: a BOM is accepted.

describe('config folders are checked before anything runs (subprocess CLI)', () => {
  const ws: Workspace[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const w of ws) w.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const ws0 = (config: Record<string, unknown>): Workspace => {
    const w = workspace(config);
    ws.push(w);
    return w;
  };

  const refused = async (w: Workspace, key: RegExp): Promise<string> => {
    const r = await runCli(['status'], w.env(), 20_000);
    assert.equal(r.code, 2, `expected exit 2 (CONFIG_INVALID), got ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /CONFIG_INVALID/);
    assert.match(r.stderr, key);
    return r.stderr;
  };

  it('landingDir == dataDir, and either inside the other, are refused naming both keys', async () => {
    const a = ws0({});
    writeFileSync(
      a.configFile,
      JSON.stringify({ dataDir: a.landing, landingDir: a.landing, http: { port: 0 } }),
    );
    await refused(a, /landingDir and dataDir are the same folder/);
    const b = ws0({});
    writeFileSync(
      b.configFile,
      JSON.stringify({ dataDir: path.join(b.landing, 'data'), landingDir: b.landing, http: { port: 0 } }),
    );
    await refused(b, /dataDir .* is inside landingDir/);
    const c = ws0({});
    writeFileSync(c.configFile, JSON.stringify({ dataDir: c.dir, landingDir: c.landing, http: { port: 0 } }));
    await refused(c, /landingDir .* is inside dataDir/);
    assert.ok(!readdirSync(c.dir).includes('seamline.db'), 'nothing was created in a refused layout');
  });

  it('a landingDir that does not exist, or is a file, is refused naming landingDir', async () => {
    const a = ws0({});
    writeFileSync(
      a.configFile,
      JSON.stringify({ dataDir: a.data, landingDir: path.join(a.dir, 'landnig'), http: { port: 0 } }),
    );
    await refused(a, /landingDir: .*landnig does not exist/);
    assert.throws(() => statSync(path.join(a.dir, 'landnig')), 'the typo was not created');
    const b = ws0({});
    const file = path.join(b.dir, 'afile');
    writeFileSync(file, 'x');
    writeFileSync(b.configFile, JSON.stringify({ dataDir: b.data, landingDir: file, http: { port: 0 } }));
    await refused(b, /landingDir: .*afile exists and is not a folder/);
  });

  it('a dataDir under /proc is refused at once (no mkdir loop)', async () => {
    const a = ws0({});
    writeFileSync(
      a.configFile,
      JSON.stringify({ dataDir: '/proc/self/seamline-data', landingDir: a.landing, http: { port: 0 } }),
    );
    await refused(a, /dataDir: .* virtual file system \/proc/);
  });

  it('the quick start layout works: no config, a fresh folder, default ./landing and ./data are created', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-fresh-'));
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEAMLINE_')) env[k] = v;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      void import('node:child_process').then(({ spawn }) => {
        const child = spawn(process.execPath, [CLI, 'status', '--json'], {
          cwd: dir,
          env,
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(statSync(path.join(dir, 'landing')).isDirectory());
    assert.ok(statSync(path.join(dir, 'data')).isDirectory());
  });

  it('a config file that starts with a UTF-8 BOM is accepted', async () => {
    const a = ws0({});
    writeFileSync(
      a.configFile,
      '\uFEFF' + JSON.stringify({ dataDir: a.data, landingDir: a.landing, http: { port: 0 } }),
    );
    mkdirSync(a.data, { recursive: true });
    const r = await runCli(['status', '--json'], a.env(), 30_000);
    assert.equal(r.code, 0, r.stderr);
  });
});
