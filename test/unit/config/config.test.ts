import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { SeamlineError } from '../../../src/errors/errors.js';

const tmpFile = (content: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'seamline-cfg-'));
  const f = path.join(d, 'c.json');
  writeFileSync(f, content);
  return f;
};

describe('config', () => {
  it('applies defaults, resolves paths against the config file, and freezes', () => {
    const f = tmpFile(JSON.stringify({ dataDir: './d' }));
    const c = loadConfig({ file: f, env: {} });
    assert.equal(c.dataDir, path.join(path.dirname(f), 'd'));
    assert.equal(c.processor.triggerIntervalMs, 1000);
    assert.equal(c.model.id, 'local/glove-sif-100d');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.processor));
    assert.throws(() => {
      (c.processor as { maxRecords: number }).maxRecords = 1;
    }, TypeError);
  });

  it('names the key and the allowed values in errors', () => {
    const f = tmpFile(JSON.stringify({ landing: { afterLanding: 'shred' } }));
    assert.throws(
      () => loadConfig({ file: f, env: {} }),
      (e: unknown) =>
        e instanceof SeamlineError &&
        e.code === 'CONFIG_INVALID' &&
        e.message.includes('landing.afterLanding') &&
        e.message.includes('"archive"'),
    );
  });

  it('rejects unknown keys, including __proto__, by name', () => {
    const f = tmpFile('{"processor": {"maxRecordz": 5}, "__proto__": {"polluted": true}}');
    assert.throws(
      () => loadConfig({ file: f, env: {} }),
      (e: unknown) =>
        e instanceof SeamlineError && /processor\.maxRecordz/.test(e.message) && /__proto__/.test(e.message),
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('applies SEAMLINE_* env overrides (nested with __, JSON values) and refuses unknown ones', () => {
    const c = loadConfig({
      env: {
        SEAMLINE_PROCESSOR__MAX_RECORDS: '17',
        SEAMLINE_DATA_DIR: '/tmp/x',
        SEAMLINE_FAULT: 'after-plan',
      },
      cwd: '/tmp',
    });
    assert.equal(c.processor.maxRecords, 17);
    assert.equal(c.dataDir, '/tmp/x');
    assert.throws(
      () => loadConfig({ env: { SEAMLINE_PROCESSOR__MAX_RECORDZ: '1' } }),
      /processor\.maxRecordz/,
    );
  });

  it('refuses a non-loopback bind without a token', () => {
    assert.throws(() => loadConfig({ env: { SEAMLINE_HTTP__HOST: '0.0.0.0' } }), /http\.token is required/);
  });

  it('reports a missing config file with its path', () => {
    assert.throws(
      () => loadConfig({ file: '/nonexistent/seamline.json', env: {} }),
      (e: unknown) =>
        e instanceof SeamlineError &&
        e.code === 'CONFIG_NOT_FOUND' &&
        e.message.includes('/nonexistent/seamline.json'),
    );
  });
});

describe('docs/config.md', () => {
  it('is in step with the schema (regenerate with npm run docs:config)', async () => {
    const { readFileSync } = await import('node:fs');
    const { packageRoot } = await import('../../../src/config/load.js');
    const { renderConfigReference } = await import('../../../src/config/reference.js');
    const onDisk = readFileSync(path.join(packageRoot(), 'docs', 'config.md'), 'utf8');
    assert.equal(onDisk, renderConfigReference(), 'docs/config.md is stale: run npm run docs:config');
  });

  it('docs/errors.md is in step with the error registry', async () => {
    const { readFileSync } = await import('node:fs');
    const { packageRoot } = await import('../../../src/config/load.js');
    const { renderErrorReference } = await import('../../../src/errors/reference.js');
    assert.equal(
      readFileSync(path.join(packageRoot(), 'docs', 'errors.md'), 'utf8'),
      renderErrorReference(),
      'docs/errors.md is stale: run npm run docs:config',
    );
  });
});

describe('config/seamline.example.json', () => {
  it('is a valid configuration', async () => {
    const { packageRoot } = await import('../../../src/config/load.js');
    const c = loadConfig({ file: path.join(packageRoot(), 'config', 'seamline.example.json'), env: {} });
    assert.deepEqual([...c.contract.textFields], ['title', 'text']);
  });
});
