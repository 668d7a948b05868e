import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clampLimit, parseSince, safeExcerpt } from '../../../src/observability/activity.js';
import { ActivityHistory } from '../../../src/observability/history.js';

describe('safeExcerpt', () => {
  it('escapes controls, bidi and invisible characters, and bounds the length on a code point', () => {
    const e = safeExcerpt('a\u001b[31mb\u202ec\u200bd\ne\tf\\g');
    assert.equal(e.text, 'a\\u{1B}[31mb\\u{202E}c\\u{200B}d\\ne\\tf\\\\g');
    assert.equal(e.truncated, false);
    const long = safeExcerpt('😀'.repeat(10), 3);
    assert.deepEqual(long, { text: '😀😀😀', truncated: true });
  });
});

describe('parseSince', () => {
  it('takes durations back from now or a zoned ISO time, and refuses the rest', () => {
    assert.equal(parseSince('15m', 1_000_000_000), 1_000_000_000 - 900_000);
    assert.equal(parseSince('2h', 10_000_000), 10_000_000 - 7_200_000);
    assert.equal(parseSince('2024-05-01T00:00:00Z', 0), Date.UTC(2024, 4, 1));
    assert.throws(() => parseSince('2024-05-01T00:00:00', 0), /no time zone/);
    assert.throws(() => parseSince('yesterday', 0), /--since "yesterday"/);
  });
  it('clamps listing sizes', () => {
    assert.equal(clampLimit(undefined), 20);
    assert.equal(clampLimit(0), 1);
    assert.equal(clampLimit(1e9), 1000);
  });
});

describe('ActivityHistory', () => {
  it('keeps a bounded number of backlog samples, within the window', () => {
    const h = new ActivityHistory(3_600_000, 60_000, 5);
    for (let i = 0; i < 100; i++) h.sample(i * 1000, i);
    const v = h.view(100_000);
    assert.equal(v.backlog.length, 5);
    assert.deepEqual(
      v.backlog.map((b) => b.backlog),
      [95, 96, 97, 98, 99],
    );
    assert.equal(v.minutes.length, 60, 'one bucket per minute of the window, empty ones included');
    h.sample(10_000_000, 1);
    assert.equal(h.view(10_000_000).backlog.length, 1, 'samples older than the window are dropped');
  });
});
