import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../../../src/store/sqlite/db.js';

const sqliteModule = fileURLToPath(new URL('../../../src/store/sqlite/db.js', import.meta.url));

describe('migrations', () => {
  it('several processes opening a fresh database at once all succeed and apply each migration once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-mig-'));
    const file = path.join(dir, 'seamline.db');
    try {
      const script = `import { openSqlite } from ${JSON.stringify(sqliteModule)}; const db = openSqlite(${JSON.stringify(file)}, { synchronous: 'FULL', busyTimeoutMs: 10000 }); db.close();`;
      const codes = await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            new Promise<number | null>((resolve) => {
              const p = spawn(process.execPath, ['--input-type=module', '-e', script], {
                stdio: ['ignore', 'ignore', 'inherit'],
              });
              p.on('close', resolve);
            }),
        ),
      );
      assert.deepEqual(codes, [0, 0, 0, 0]);
      const db = openSqlite(file, { synchronous: 'FULL', busyTimeoutMs: 1000 });
      const v = db.pragma('user_version', { simple: true }) as number;
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'bronze'")
        .all().length;
      db.close();
      assert.ok(v >= 1);
      assert.equal(tables, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
