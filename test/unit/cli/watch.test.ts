import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drainView, formatEta, progressBar, renderDrain, type DrainSample } from '../../../src/cli/watch.js';

const s = (tMs: number, backlog: number, maxSeq: number, waitingFiles = 0): DrainSample => ({
  tMs,
  backlog,
  maxSeq,
  waitingFiles,
  rows: null,
});

describe('status --watch rendering (pure)', () => {
  it('progress, rate and ETA of a draining backlog', () => {
    const samples = [s(0, 10_000, 10_000), s(1000, 9_500, 10_000), s(2000, 9_000, 10_000)];
    const v = drainView(samples)!;
    assert.equal(v.done, 1000);
    assert.equal(v.total, 10_000);
    assert.equal(v.fraction, 0.1);
    assert.equal(v.rate, 500);
    assert.equal(v.etaS, 18);
  });

  it('files landing meanwhile grow the total; the rate uses only the window', () => {
    const samples = [s(0, 100, 100), s(20_000, 0, 1100), s(25_000, 500, 2100)];
    const v = drainView(samples, 10_000)!;
    assert.equal(v.done, 1600); // (2100-500) - (100-100)
    assert.equal(v.total, 2100);
    assert.equal(v.rate, 500 / 5); // only the samples within 10 s of the last
  });

  it('a terminal line has a bar that fits the width; plain lines carry a timestamp', () => {
    const samples = [s(0, 1000, 1000), s(2000, 500, 1000, 2)];
    const tty = renderDrain(samples, { tty: true, columns: 100 });
    assert.ok(tty.length <= 100, tty);
    assert.match(
      tty,
      /^\[#{10,20}\.+\] {2}50% 500\/1,000 records, backlog 500 {2}250 rec\/s {2}eta 2s, 2 file\(s\) waiting$/,
    );
    const plain = renderDrain(samples, { tty: false });
    assert.equal(
      plain,
      '1970-01-01T00:00:02.000Z 500/1,000 records, backlog 500 (50%), 250 rec/s, eta 2s, 2 file(s) waiting',
    );
    assert.ok(!plain.includes('\x1b') && !plain.includes('['));
  });

  it('idle and drained states', () => {
    assert.equal(renderDrain([], { tty: false }), 'waiting for the first status…');
    const idle = renderDrain([s(0, 0, 50)], { tty: false });
    assert.match(idle, /0\/0 records, backlog 0, – rec\/s, drained$/);
    const done = renderDrain([s(0, 10, 50), s(1000, 0, 50)], { tty: true, columns: 80 });
    assert.match(done, /^\[#+\] 100% 10\/10 records, backlog 0 {2}10 rec\/s {2}drained$/);
  });

  it('bars and durations', () => {
    assert.equal(progressBar(0.5, 10), '[#####.....]');
    assert.equal(progressBar(2, 4), '[####]');
    assert.equal(formatEta(null), '–');
    assert.equal(formatEta(59.2), '60s');
    assert.equal(formatEta(125), '2m05s');
    assert.equal(formatEta(7300), '2h01m');
  });
});
