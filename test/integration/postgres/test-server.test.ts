import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPg } from '../../helpers/postgres.js';

const script = fileURLToPath(new URL('../../../../scripts/pg-test-server.mjs', import.meta.url));
const run = (...args: string[]) =>
  execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('scripts/pg-test-server.mjs (the server CI and npm test start)', () => {
  it('refuses, with the reason, a folder the unprivileged server user could not reach', () => {
    if (process.getuid?.() !== 0) return; // only root hands the cluster to another user
    const parent = mkdtempSync(path.join(tmpdir(), 'seamline-pgsrv-')); // 0700, root's
    try {
      assert.throws(() => run('start', '--dir', path.join(parent, 'cluster')), /not traversable/);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('start is idempotent and prints an export line, the server answers, stop is idempotent and cleans up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-pgsrv-'));
    try {
      const first = run('start', '--dir', dir);
      const m = /^export PG_TEST_URL='(postgres:\/\/[^']+)'$/m.exec(first);
      assert.ok(m, first);
      assert.equal(
        run('start', '--dir', dir),
        first,
        'a second start finds it running and prints the same URL',
      );
      assert.equal(run('url', '--dir', dir).trim(), m[1]);
      const db = await openPg(m[1]!, { poolMax: 1 });
      try {
        const r = await db.query<{ fsync: string }>(`SELECT current_setting('fsync') AS fsync`);
        assert.equal(r.rows[0]!.fsync, 'off', 'test settings');
      } finally {
        await db.close();
      }
    } finally {
      run('stop', '--dir', dir);
      run('stop', '--dir', dir);
    }
    assert.equal(existsSync(dir), false);
  });
});
