import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('../../../src/runtime/process-guard.js', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../../src/observability/logger.js', import.meta.url));

const child = (body: string) =>
  spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { guardProcess } from ${JSON.stringify(GUARD)};
       import { createLogger } from ${JSON.stringify(LOGGER)};
       guardProcess(createLogger('info', 'r', 'test'));
       ${body}`,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );

describe('process guard (real child process)', () => {
  it('an unhandled rejection is logged with its code and the process carries on', () => {
    const r = child(
      `Promise.reject(new Error('stray')); setTimeout(() => process.stdout.write('alive'), 100);`,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'alive');
    assert.match(r.stderr, /"event":"process.unhandled_rejection","code":"INTERNAL"/);
  });

  it('an uncaught exception in a timer exits 70 (INTERNAL, documented), not 1', () => {
    const r = child(`setTimeout(() => { throw new Error('boom'); }, 10);`);
    assert.equal(r.status, 70, r.stderr);
    assert.match(r.stderr, /"event":"process.uncaught_exception"/);
  });
});
