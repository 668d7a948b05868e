import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/config/load.js';

describe('vendored models', () => {
  it('match the sha256 and sizes recorded in models/PROVENANCE.md', () => {
    const models = path.join(packageRoot(), 'models');
    const prov = readFileSync(path.join(models, 'PROVENANCE.md'), 'utf8');
    const rows = [...prov.matchAll(/^\| (local\/[^ |]+) \| ([0-9a-f]{64}) \| (\d+) \|$/gm)];
    assert.equal(rows.length, 4, 'PROVENANCE.md lists four files');
    for (const [, file, sha, bytes] of rows) {
      const buf = readFileSync(path.join(models, file!));
      assert.equal(buf.length, Number(bytes), `${file} size`);
      assert.equal(createHash('sha256').update(buf).digest('hex'), sha, `${file} sha256`);
    }
  });
});
