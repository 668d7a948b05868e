import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jsonl, runJson, workspace, type Workspace } from '../helpers/cli.js';

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    version: 1,
    event_time: '2024-01-01T00:00:00Z',
    text: `record ${i} of a backfill that only the one-shot ingest processes, with no live file waiting`,
  }));

/**
 * Issue 17: `seamline ingest` sizes its backlog batches by processor.backlog.ingestTimeBoxMs, not by the
 * daemon's timeBoxMs (which keeps batches small so a live file never waits long). Same files, same
 * config but for the one-shot box: the real CLI makes few large batches with the default box and many
 * small ones when it is set to the daemon's size.
 */
describe('ingest: backlog batches use the one-shot time box (real CLI)', () => {
  const ws: Workspace[] = [];
  after(() => ws.forEach((w) => w.cleanup()));

  const ingest = async (ingestTimeBoxMs?: number) => {
    const w = workspace({
      processor: {
        maxRecords: 2000,
        backlog: { timeBoxMs: 1, minRecords: 8, ...(ingestTimeBoxMs ? { ingestTimeBoxMs } : {}) },
      },
    });
    ws.push(w);
    w.drop('backfill.jsonl', jsonl(records(1200)));
    return runJson<{ batches: number; records: number; tableRows: number }>(['ingest', '--once'], w.env());
  };

  it('the default one-shot box makes a handful of batches; the daemon-sized box makes many', async () => {
    const big = await ingest();
    const small = await ingest(1);
    assert.equal(big.tableRows, 1200);
    assert.equal(small.tableRows, 1200);
    // Growth is bounded at 2x per batch from 32 records: 32+64+…+1024 covers 1200 in 6 batches.
    assert.ok(big.batches <= 8, `one-shot box: ${big.batches} batches`);
    // A 1 ms box keeps batches near minRecords (8): well over 100 batches for 1200 records.
    assert.ok(small.batches >= 50, `daemon-sized box: ${small.batches} batches`);
  });
});
