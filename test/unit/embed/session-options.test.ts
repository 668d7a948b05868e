import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { sessionOptions } from '../../../src/embed/session-options.js';

describe('sessionOptions (pure)', () => {
  it('sets the threads and turns ORT spinning off through config entries by default', () => {
    assert.deepEqual(sessionOptions({ threads: 2, spinning: false }), {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  });

  it('adds no config entry when spinning is wanted, and passes a log severity when given', () => {
    assert.deepEqual(sessionOptions({ threads: 1, spinning: true, logSeverity: 0 }), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 0,
    });
  });

  it('model.spinning defaults to false and can be turned on (file or SEAMLINE_MODEL__SPINNING)', () => {
    assert.equal(loadConfig({ env: {} }).model.spinning, false);
    assert.equal(loadConfig({ env: { SEAMLINE_MODEL__SPINNING: 'true' } }).model.spinning, true);
  });
});
