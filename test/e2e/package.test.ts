import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The onnxruntime-node transformers.js loads (the top-level one). */
const ORT_VERSION = (
  JSON.parse(readFileSync(path.join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  name?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  [k: string]: unknown;
}

/**
 * The environment npm runs with here, minus what an enclosing `npm test` sets for its own project, and
 * minus every onnxruntime-node install switch: the consumer's `allowScripts` alone must skip the CUDA
 * download, as it does for a user whose shell sets nothing.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (
      !/^npm_(package|lifecycle|config_local_prefix|config_global_prefix|command|execpath|node_execpath)/i.test(
        k,
      ) &&
      !/onnxruntime_node_install/i.test(k) &&
      // This repository's .npmrc hands every process npm starts a NODE_OPTIONS that sets the skip
      // (for npm that ignores allowScripts); a consumer's install must not inherit it.
      !/^(node_options|npm_config_node_options)$/i.test(k)
    )
      env[k] = v;
  return env;
}

function run(cmd: string, args: readonly string[], cwd: string, timeout = 600_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

const must = (r: SpawnSyncReturns<string>, what: string): string => {
  assert.equal(
    r.status,
    0,
    `${what} exited ${r.status}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`,
  );
  return r.stdout;
};

/**
 * The consumer project's lockfile: seamline from the tarball, and every runtime dependency at exactly
 * the version and integrity of seamline's own lock, so `npm ci --offline` takes every tarball from the
 * local npm cache (where `npm ci` of this repository put them) and needs no registry metadata.
 */
function consumerLock(tarball: string, extra: Record<string, string>): object {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const deps = { seamline: `file:${tarball}`, ...extra };
  const packages: Record<string, object> = {
    '': { name: 'consumer', dependencies: deps },
    'node_modules/seamline': {
      version: PKG.version,
      resolved: `file:${tarball}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      license: PKG.license,
      dependencies: PKG.dependencies,
      bin: PKG.bin,
      engines: PKG.engines,
    },
  };
  const extraKeys = new Set([
    ...Object.keys(extra).map((n) => `node_modules/${n}`),
    'node_modules/undici-types',
  ]);
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith('node_modules/') || (v.dev === true && !extraKeys.has(k))) continue;
    const { dev: _d, devOptional, peer: _p, ...rest } = v;
    const name = v.name ?? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // Lockfiles here omit `resolved` (omit-lockfile-registry-resolved); with it npm needs no packument.
    const resolved =
      v.resolved ??
      (v.integrity
        ? `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${v.version}.tgz`
        : undefined);
    const entry: LockEntry = { ...rest, ...(resolved ? { resolved } : {}) };
    if (devOptional === true && v.optional !== true) delete entry.optional;
    packages[k] = entry;
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

const APP_TS = `import { openPipeline, SeamlineError, type IngestSummary, type Pipeline, type SearchResponse, type DocumentResult } from 'seamline';

const p: Pipeline = await openPipeline({
  config: { dataDir: './api-data', landingDir: './api-landing', log: { level: 'warn' } },
});
try {
  const s: IngestSummary = await p.ingest();
  const res: SearchResponse = await p.search('reset the router', { k: 1, mode: 'hybrid' });
  const hits = res.results as DocumentResult[];
  const status = await p.status();
  const out = { landed: s.filesLanded, rows: s.tableRows, top: hits[0]?.id, version: hits[0]?.provenance.sourceVersion, status: 'records' in status };
  process.stdout.write(JSON.stringify(out) + '\\n');
} catch (e) {
  if (e instanceof SeamlineError) process.stderr.write(e.code + '\\n');
  throw e;
} finally {
  await p.close();
}
`;

describe('the npm package: pack, install offline into an empty project, run the bin, import the API', () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let app: string;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'seamline-pack-'));
    // prepack builds the declarations (tsconfig.package.json) before packing.
    const out = must(run('npm', ['pack', '--json', '--pack-destination', work], ROOT), 'npm pack');
    const json = out.slice(out.search(/^\[/m));
    const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    files = info!.files.map((f) => f.path);
    app = path.join(work, 'app');
    mkdirSync(app);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the tarball holds the built code, declarations and models, and no tests, benchmarks, sources or maps', () => {
    for (const f of [
      'package.json',
      'README.md',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/jobs/daemon.js',
      'config/sample/hello.jsonl',
      'models/local/glove-sif-100d/config.json',
      'models/local/use-lite-512d/onnx/model.onnx',
    ])
      assert.ok(files.includes(f), `${f} is packed`);
    const bad = files.filter(
      (f) =>
        /^(dist\/)?(test|benchmarks|scripts)\//.test(f) ||
        /^src\//.test(f) ||
        f.endsWith('.map') ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    assert.deepEqual(bad, []);
  });

  it('installs offline from the npm cache, with the onnxruntime-node CUDA download skipped', () => {
    const extra = {
      typescript: PKG.devDependencies.typescript!,
      '@types/node': PKG.devDependencies['@types/node']!,
    };
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'consumer',
          private: true,
          type: 'module',
          dependencies: { seamline: `file:${tarball}`, ...extra },
          allowScripts: PKG.allowScripts,
        },
        null,
        2,
      ),
    );
    writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(consumerLock(tarball, extra), null, 2));
    const ci = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app, 900_000);
    must(ci, 'npm ci --offline');
    assert.doesNotMatch(ci.stderr, /Unknown (project|user|global|env) config/);
    // Skipped install script: the CUDA provider libraries were not downloaded.
    const ortBin = path.join(app, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
    const ls = run('ls', [ortBin], app).stdout;
    assert.ok(!ls.includes('libonnxruntime_providers_cuda'), ls);
  });

  it("this repository's npm config carries no key npm does not know (no 'Unknown project config' warning)", () => {
    const r = run('npm', ['pkg', 'get', 'name'], ROOT);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Unknown (project|user|global|env) config/);
  });

  it("npm that ignores allowScripts (npm 10) still skips the CUDA download here: onnxruntime-node's install script, run by npm as it runs a dependency's, exits without a download", () => {
    // `--dangerously-allow-all-scripts` lifts the allowScripts policy (npm >= 11.19), so npm runs the
    // script as npm 10 would. npmEnv() holds no skip of any kind: what sets it is this repository's
    // .npmrc alone. Without it the script fetches the CUDA provider from api.nuget.org; it honours
    // GLOBAL_AGENT_HTTPS_PROXY, pointed at a closed local port, so a regression fails fast and never
    // downloads anything (1.30.0 only: LanceDB's optional nested 1.19.2 has an older script).
    const env = { ...npmEnv(), GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9' };
    const args = [
      'rebuild',
      `onnxruntime-node@${ORT_VERSION}`,
      '--foreground-scripts',
      '--dangerously-allow-all-scripts',
    ];
    const r = spawnSync('npm', args, { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.match(out, /onnxruntime-node@[\d.]+ postinstall/, 'npm ran the script');
    assert.equal(r.status, 0, out);
    assert.doesNotMatch(out, /nuget|Downloading|ECONNREFUSED|Unknown (project|user|global|env) config/i);
  });

  it('the bin runs: --version, help, ingest --once and search on the sample', () => {
    const bin = path.join(app, 'node_modules/.bin/seamline');
    assert.equal(must(run(bin, ['--version'], app), 'seamline --version'), `${PKG.version}\n`);
    assert.match(must(run(bin, ['search', '--help'], app), 'seamline search --help'), /^seamline search — /);
    cpSync(path.join(app, 'node_modules/seamline/config/sample'), path.join(app, 'landing'), {
      recursive: true,
    });
    writeFileSync(
      path.join(app, 'seamline.json'),
      JSON.stringify({ dataDir: './data', landingDir: './landing', log: { level: 'warn' } }),
    );
    const ingest = JSON.parse(
      must(run(bin, ['ingest', '--once', '--json', '--config', 'seamline.json'], app), 'ingest'),
    ) as Record<string, number>;
    assert.equal(ingest.records, 5);
    assert.equal(ingest.tableRows, 4); // 5 lines, 4 ids: kb-001 appears twice and its version 2 wins
    const search = JSON.parse(
      must(
        run(bin, ['search', 'reset the router', '-k', '1', '--json', '--config', 'seamline.json'], app),
        'search',
      ),
    ) as {
      results: { id: string; provenance: { sourceVersion: number } }[];
    };
    assert.equal(search.results[0]?.id, 'kb-001');
    assert.equal(search.results[0]?.provenance.sourceVersion, 2);
  });

  it('a TypeScript file importing the library API type-checks (strict, no skipLibCheck) and runs', () => {
    writeFileSync(path.join(app, 'app.ts'), APP_TS);
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        files: ['app.ts'],
      }),
    );
    must(run(process.execPath, [path.join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app), 'tsc');
    cpSync(path.join(app, 'node_modules/seamline/config/sample'), path.join(app, 'api-landing'), {
      recursive: true,
    });
    const out = JSON.parse(must(run(process.execPath, ['out/app.js'], app), 'node out/app.js')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(out, { landed: 1, rows: 4, top: 'kb-001', version: 2, status: true });
  });
});
