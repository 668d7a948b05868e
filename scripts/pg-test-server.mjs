// A throwaway PostgreSQL server for tests and CI (issue 16). Usage:
//   node scripts/pg-test-server.mjs start [--dir DIR]   → prints `export PG_TEST_URL=…` (eval it)
// (Not SEAMLINE_*: seamline rejects unknown SEAMLINE_* variables, so every seamline process started with
// the URL in its environment — the package test's, a user's shell — would fail with CONFIG_INVALID.)
//   node scripts/pg-test-server.mjs stop  [--dir DIR] [--keep]   → stops it and removes DIR (unless --keep)
//   node scripts/pg-test-server.mjs url   [--dir DIR]   → prints the URL of a running server
// Idempotent: `start` on a running server only prints its URL; on a stopped cluster it starts it; `stop` on
// nothing succeeds. PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged
// user (SEAMLINE_PG_TEST_USER, default seamline-pg, created when missing). The binaries come from
// SEAMLINE_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else `pg_config --bindir`.
//
// TEST SETTINGS ONLY: fsync, synchronous_commit and full_page_writes are off (a crash of the machine may
// lose or corrupt this cluster, which is thrown away anyway); it listens on 127.0.0.1 only, on a free port;
// the test role has a random password (scram-sha-256) and CREATEDB so each test file can make its own
// database. Never point a production seamline at such a cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_DIR = path.join(tmpdir(), 'seamline-pg-test');
const ROLE = 'seamline';
const DATABASE = 'seamline_test';

/** The PostgreSQL server binaries folder, or throws saying how to install them. */
export function pgBinDir() {
  const fromEnv = process.env.SEAMLINE_PG_BINDIR;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(root, versions[0], 'bin');
  }
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (r.status === 0 && existsSync(path.join(r.stdout.trim(), 'initdb'))) return r.stdout.trim();
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian: apt-get install -y postgresql) or set SEAMLINE_PG_BINDIR',
  );
}

/** The uid/gid to run the server as: ourselves, or (as root) an unprivileged user created when missing. */
function serverUser() {
  if (process.getuid?.() !== 0) return null;
  const name = process.env.SEAMLINE_PG_TEST_USER || 'seamline-pg';
  const id = (flag) => spawnSync('id', [flag, name], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return { name, uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** The server user must reach its folder: every ancestor needs search permission for "others". */
function assertTraversable(dir, user) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = statSync(d);
    if (st.uid !== user.uid && (st.mode & 0o001) === 0)
      throw new Error(
        `${d} is not traversable by ${user.name}: choose a --dir whose parents are (e.g. under ${tmpdir()})`,
      );
    if (d === path.dirname(d)) return;
  }
}

function run(bin, args, user, cwd, opts = {}) {
  const r = spawnSync(path.join(pgBinDir(), bin), args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    ...opts,
  });
  if (r.error) throw r.error;
  return r;
}

function must(r, what) {
  if (r.status !== 0)
    throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  return r;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const files = (dir) => ({
  data: path.join(dir, 'data'),
  state: path.join(dir, 'server.json'),
  log: path.join(dir, 'server.log'),
});

function readState(dir) {
  try {
    return JSON.parse(readFileSync(files(dir).state, 'utf8'));
  } catch {
    return null;
  }
}

export function urlOf(state) {
  return `postgres://${ROLE}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${DATABASE}`;
}

function isRunning(dir, user) {
  if (!existsSync(path.join(files(dir).data, 'PG_VERSION'))) return false;
  return run('pg_ctl', ['-D', files(dir).data, 'status'], user, dir).status === 0;
}

function startCluster(dir, user, port) {
  const f = files(dir);
  // Test settings only: durability off for speed (see the header), loopback only, small memory.
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=100',
    '-c shared_buffers=32MB',
    "-c timezone='UTC'",
  ].join(' ');
  return run('pg_ctl', ['-D', f.data, '-l', f.log, '-w', '-t', '60', '-o', opts, 'start'], user, dir);
}

/**
 * Starts (creating when needed) the test cluster in `dir` and returns { url, dir, port }. Idempotent.
 */
export async function startServer(dir = DEFAULT_DIR) {
  const user = serverUser();
  const f = files(dir);
  let state = readState(dir);
  if (state && isRunning(dir, user)) return { url: urlOf(state), dir, port: state.port };
  if (!state || !existsSync(path.join(f.data, 'PG_VERSION'))) {
    if (user) assertTraversable(path.dirname(dir), user);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dir, user.uid, user.gid);
    const superPw = randomBytes(18).toString('base64url');
    const pwFile = path.join(dir, 'superuser.pw');
    writeFileSync(pwFile, `${superPw}\n`, { mode: 0o600 });
    if (user) chownSync(pwFile, user.uid, user.gid);
    must(
      run(
        'initdb',
        [
          '-D',
          f.data,
          '-U',
          'postgres',
          `--pwfile=${pwFile}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        user,
        dir,
      ),
      'initdb',
    );
    rmSync(pwFile, { force: true });
    state = { password: randomBytes(18).toString('base64url'), port: 0, initialized: false };
  }
  // A stopped cluster may come back on another port: the old one can be taken by now.
  let started = null;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    const port = await freePort();
    const r = startCluster(dir, user, port);
    if (r.status === 0) started = port;
    else if (attempt === 2) {
      const log = existsSync(f.log) ? readFileSync(f.log, 'utf8').slice(-2000) : '';
      throw new Error(`pg_ctl start failed: ${(r.stderr || r.stdout).trim()}\n${log}`);
    }
  }
  state = { ...state, port: started };
  if (!state.initialized) {
    // Over the unix socket as the superuser (trust): the test role and its database.
    const sql = `CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${state.password}'; CREATE DATABASE ${DATABASE} OWNER ${ROLE};`;
    must(
      run(
        'psql',
        [
          '-h',
          dir,
          '-p',
          String(state.port),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-v',
          'ON_ERROR_STOP=1',
          '-q',
        ],
        user,
        dir,
        { input: sql.replace('; ', ';\n') },
      ),
      'creating the test role and database',
    );
    state.initialized = true;
  }
  writeFileSync(f.state, JSON.stringify(state), { mode: 0o600 });
  return { url: urlOf(state), dir, port: state.port };
}

/** Stops the server in `dir` (fast shutdown: open sessions are cut) and removes `dir` unless keep. */
export function stopServer(dir = DEFAULT_DIR, { keep = false } = {}) {
  if (existsSync(path.join(files(dir).data, 'PG_VERSION'))) {
    const user = serverUser();
    if (isRunning(dir, user))
      must(
        run('pg_ctl', ['-D', files(dir).data, '-m', 'fast', '-w', '-t', '60', 'stop'], user, dir),
        'pg_ctl stop',
      );
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

async function main(argv) {
  const [cmd = 'start', ...rest] = argv;
  const at = rest.indexOf('--dir');
  const dir = at >= 0 ? path.resolve(rest[at + 1]) : DEFAULT_DIR;
  if (cmd === 'start') {
    const s = await startServer(dir);
    process.stderr.write(`PostgreSQL test server running in ${dir} on 127.0.0.1:${s.port}\n`);
    process.stdout.write(`export PG_TEST_URL='${s.url}'\n`);
  } else if (cmd === 'url') {
    const st = readState(dir);
    if (!st || !isRunning(dir, serverUser())) throw new Error(`no PostgreSQL test server running in ${dir}`);
    process.stdout.write(`${urlOf(st)}\n`);
  } else if (cmd === 'stop') {
    stopServer(dir, { keep: rest.includes('--keep') });
    process.stderr.write(`PostgreSQL test server in ${dir} stopped\n`);
  } else {
    throw new Error(`unknown command ${cmd}: start | stop | url`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`pg-test-server: ${e.message}\n`);
    process.exit(1);
  });
}
