// bench:retrieval without its data: it says where it looked and exits 0 (CI without ../shared).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('../../benchmarks/retrieval.js', import.meta.url));

describe('bench:retrieval', () => {
  it('exits 0 and names the folder when the SciFact data is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-bench-retrieval-'));
    try {
      const missing = path.join(dir, 'no-such-scifact');
      const r = spawnSync(process.execPath, [SCRIPT, '--data', missing, '--out', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /not there/);
      assert.ok(r.stdout.includes(missing));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
