import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideReadiness, observe } from '../../../src/landing/completeness.js';

const policy = { stableWindowMs: 1000, requireManifest: false };

describe('decideReadiness (pure)', () => {
  it('without a manifest: waits for the stability window, then lands unverified', () => {
    const obs = observe(undefined, 10, 5, 100);
    assert.deepEqual(decideReadiness(obs, null, 600, policy), {
      ready: false,
      reason: 'unstable',
      detail: 'size/mtime stable for 500 ms of 1000 ms',
    });
    assert.deepEqual(decideReadiness(obs, null, 1100, policy), {
      ready: true,
      verified: false,
      by: 'stable-window',
    });
  });

  it('observe resets the clock only when size or mtime moves', () => {
    const a = observe(undefined, 10, 5, 100);
    assert.equal(observe(a, 10, 5, 900), a);
    assert.equal(observe(a, 11, 5, 900).stableSinceMs, 900);
    assert.equal(observe(a, 10, 6, 900).stableSinceMs, 900);
  });

  it('requireManifest: a file without one waits, reported as manifest-missing', () => {
    const obs = observe(undefined, 10, 5, 0);
    const r = decideReadiness(obs, null, 1e9, { ...policy, requireManifest: true });
    assert.equal(r.ready, false);
    assert.equal(!r.ready && r.reason, 'manifest-missing');
  });

  it('a manifest with matching bytes is ready at once (verified); differing bytes wait, then go to the loader', () => {
    const obs = observe(undefined, 10, 5, 0);
    assert.deepEqual(decideReadiness(obs, { records: 1, bytes: 10 }, 1, policy), {
      ready: true,
      verified: true,
      by: 'manifest-bytes',
    });
    const r = decideReadiness(obs, { records: 1, bytes: 20 }, 1, policy);
    assert.equal(!r.ready && r.reason, 'unstable');
    assert.match(!r.ready ? r.detail : '', /manifest says 20 bytes, file has 10 so far/);
    // Stable but still short: ready, and the loader records the file as incomplete.
    assert.deepEqual(decideReadiness(obs, { records: 1, bytes: 20 }, 5000, policy), {
      ready: true,
      verified: true,
      by: 'stable-window',
    });
  });

  it('a manifest with only records/sha256 still waits for stability (a count cannot tell a half-written file)', () => {
    const obs = observe(undefined, 10, 5, 0);
    assert.equal(decideReadiness(obs, { records: 1, sha256: 'a'.repeat(64) }, 10, policy).ready, false);
    assert.deepEqual(decideReadiness(obs, { records: 1 }, 1000, policy), {
      ready: true,
      verified: true,
      by: 'stable-window',
    });
  });

  it('an invalid manifest makes the file wait, whatever the policy', () => {
    const obs = observe(undefined, 10, 5, 0);
    const r = decideReadiness(obs, 'invalid', 1e9, policy);
    assert.equal(!r.ready && r.reason, 'manifest-invalid');
  });
});
