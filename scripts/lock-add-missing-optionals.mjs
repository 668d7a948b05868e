// The npm registry these machines reach does not serve every platform build of packages with native
// binaries (e.g. @lancedb/lancedb-darwin-arm64 answers 404). `npm install` then leaves those optional
// dependencies out of package-lock.json, and `npm ci` refuses the lock as "out of sync". This script adds
// a stub entry (version, os, cpu, optional) for every optional dependency the lock lacks, so `npm ci`
// accepts the lock and skips the foreign platforms as it would anyway. Run it after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openharmony',
  'sunos',
  'aix',
  'netbsd',
  'openbsd',
];
const CPU = ['x64', 'arm64', 'arm', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'wasm32', 'mips64el'];
const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [where, meta] of Object.entries(pkgs)) {
  for (const [name, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const candidates = [`${where ? `${where}/` : ''}node_modules/${name}`, `node_modules/${name}`];
    if (candidates.some((c) => pkgs[c])) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.filter((p) => OS.includes(p));
    const cpu = parts.filter((p) => CPU.includes(p));
    const version = String(spec).replace(/^[\^~=]/, '');
    pkgs[`node_modules/${name}`] = {
      version,
      ...(cpu.length ? { cpu } : {}),
      ...(os.length ? { os } : {}),
      optional: true,
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`added ${added} stub entr${added === 1 ? 'y' : 'ies'} for optional platform packages\n`);
