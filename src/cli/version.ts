import { readFileSync } from 'node:fs';

/** The package's name and version, read from the package.json next to dist/ (repo or installed package). */
export function packageInfo(): { name: string; version: string } {
  // dist/src/cli/version.js → ../../../package.json is the package root in a checkout and when installed.
  const raw = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(raw) as { name?: string; version?: string };
  return { name: pkg.name ?? 'seamline', version: pkg.version ?? '0.0.0' };
}
