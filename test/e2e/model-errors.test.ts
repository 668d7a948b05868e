import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonl, runCli, workspace, type Workspace } from '../helpers/cli.js';

describe('model loading errors', () => {
  let ws: Workspace;
  before(() => {
    ws = workspace({ model: { id: 'Xenova/all-MiniLM-L6-v2' } });
    ws.drop('a.jsonl', jsonl([{ id: 'a', version: 1, event_time: '2026-01-01T00:00:00Z', text: 'hello' }]));
  });
  after(() => ws.cleanup());

  it('a model that is not vendored, with remote loading off, fails with a message naming the model and the fix', async () => {
    const r = await runCli(['ingest', '--once'], ws.env());
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /MODEL_NOT_FOUND/);
    assert.match(r.stderr, /Xenova\/all-MiniLM-L6-v2/);
    assert.match(r.stderr, /model\.allowRemote=true/);
    assert.match(r.stderr, /modelsDir/);
  });

  it('a config error exits 2 and names the key', async () => {
    const r = await runCli(['status'], ws.env({ SEAMLINE_PROCESSOR__MAX_RECORDS: '0' }));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /processor\.maxRecords/);
  });
});
