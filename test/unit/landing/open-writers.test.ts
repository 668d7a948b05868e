import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideReadiness, observe, type WriterFacts } from '../../../src/landing/completeness.js';
import { lateManifestVerdict, unmatchedManifestState } from '../../../src/landing/manifests.js';
import { dataNamesOfManifest, manifestPathsOf } from '../../../src/landing/scan.js';
import { fdinfoWrites, writerFactsFor } from '../../../src/landing/writers.js';

const policy = { stableWindowMs: 1000, requireManifest: false, closedQuietMs: 100 };
const none: WriterFacts = { kind: 'checked', writerPids: [] };
const held: WriterFacts = { kind: 'checked', writerPids: [4242] };
const unknown: WriterFacts = { kind: 'unavailable', reason: '/proc cannot be read' };

describe('completeness with the open-writer check (pure)', () => {
  it('a file nobody holds open, unchanged since its mtime for closedQuietMs, is ready at once (renamed into place)', () => {
    // mtime 5 000, first seen at 5 200: quiet for 200 ms by its mtime, above the 100 ms.
    const obs = observe(undefined, 10, 5000, 5200);
    assert.deepEqual(decideReadiness(obs, null, 5200, policy, none), {
      ready: true,
      verified: false,
      by: 'closed-and-quiet',
    });
    // The same observation without the check waits for the whole window.
    const r = decideReadiness(obs, null, 5200, policy, unknown);
    assert.equal(r.ready, false);
    assert.equal(!r.ready && r.reason, 'unstable');
  });

  it('a file written just now and closed waits only closedQuietMs, not the stability window', () => {
    const obs = observe(undefined, 10, 5000, 5000);
    assert.equal(decideReadiness(obs, null, 5050, policy, none).ready, false);
    assert.equal(decideReadiness(obs, null, 5100, policy, none).ready, true);
  });

  it('a file held open for writing is never complete: not after the window, not with a matching manifest', () => {
    const obs = observe(undefined, 10, 0, 0);
    const r = decideReadiness(obs, { records: 1, bytes: 10 }, 1e9, policy, held);
    assert.equal(r.ready, false);
    assert.equal(!r.ready && r.reason, 'open-for-writing');
    assert.match(!r.ready ? r.detail : '', /process 4242/);
  });

  it('without certainty the stability window applies (and a changed file restarts it)', () => {
    let obs = observe(undefined, 10, 5000, 5000);
    assert.equal(decideReadiness(obs, null, 5999, policy, unknown).ready, false);
    obs = observe(obs, 11, 5500, 5500);
    assert.equal(decideReadiness(obs, null, 6000, policy, unknown).ready, false);
    assert.equal(decideReadiness(obs, null, 6500, policy, unknown).ready, true);
  });

  it('fdinfo flags: O_WRONLY and O_RDWR write, O_RDONLY (with O_LARGEFILE/O_CLOEXEC) does not', () => {
    assert.equal(fdinfoWrites('pos:\t0\nflags:\t0100000\nmnt_id:\t24\n'), false);
    assert.equal(fdinfoWrites('pos:\t0\nflags:\t02100001\nmnt_id:\t24\n'), true);
    assert.equal(fdinfoWrites('pos:\t0\nflags:\t0102002\n'), true);
    assert.equal(fdinfoWrites('garbage'), false);
  });

  it('a writer found while other processes were unreadable still blocks; no writer then means "unknown"', () => {
    const probe = {
      kind: 'unavailable' as const,
      reason: 'unreadable',
      writers: new Map([['1:2', [7]]]),
    };
    assert.deepEqual(writerFactsFor(probe, { dev: 1, ino: 2 }), { kind: 'checked', writerPids: [7] });
    assert.equal(writerFactsFor(probe, { dev: 1, ino: 3 }).kind, 'unavailable');
  });
});

describe('manifest naming and late manifests (pure)', () => {
  it('both namings: NAME.manifest.json and NAME.jsonl.manifest.json', () => {
    assert.deepEqual(manifestPathsOf('/l/a.jsonl'), ['/l/a.manifest.json', '/l/a.jsonl.manifest.json']);
    assert.deepEqual(manifestPathsOf('/l/a.jsonl.gz'), ['/l/a.manifest.json', '/l/a.jsonl.gz.manifest.json']);
    assert.deepEqual(dataNamesOfManifest('d/a.manifest.json'), ['d/a.jsonl', 'd/a.jsonl.gz', 'd/a.csv']);
    assert.deepEqual(dataNamesOfManifest('d/a.csv.manifest.json'), ['d/a.csv']);
  });

  it('a late manifest agreeing with what landed is null; a contradicting one says what differs', () => {
    const landed = { records: 9, sha256: 'a'.repeat(64), bytes: 100 };
    assert.equal(lateManifestVerdict({ records: 9 }, landed), null);
    assert.match(lateManifestVerdict({ records: 10 }, landed) ?? '', /says 10 records, 9 were read/);
    assert.match(lateManifestVerdict({ records: 9, sha256: 'b'.repeat(64) }, landed) ?? '', /sha256/);
  });

  it('an unmatched manifest waits, then is an orphan', () => {
    assert.equal(unmatchedManifestState(1000, 1500, 1000), 'waiting');
    assert.equal(unmatchedManifestState(1000, 2000, 1000), 'orphan');
  });
});
