import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { jsonl, runJson, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { servingRows } from '../helpers/table.js';

const rec = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  version: 1,
  event_time: '2026-03-01T10:00:00Z',
  text: `landing test record ${id} about copper lanterns`,
  ...extra,
});

interface FileRowLite {
  path: string;
  state: string;
  records_read: number;
  records_landed: number;
  records_quarantined: number;
}

/** Reads the file catalog directly (read-only; the daemon owns the database). */
function catalog(ws: Workspace): FileRowLite[] {
  let db;
  try {
    db = openSqlite(path.join(ws.data, 'seamline.db'), {
      synchronous: 'FULL',
      busyTimeoutMs: 2000,
      readonly: true,
    });
  } catch {
    return [];
  }
  try {
    return db
      .prepare(
        'SELECT path, state, records_read, records_landed, records_quarantined FROM files ORDER BY file_id',
      )
      .all() as FileRowLite[];
  } finally {
    db.close();
  }
}

const ids = async (ws: Workspace): Promise<Set<string>> =>
  new Set((await servingRows(ws.data)).map((r) => r.id));

describe('landing with the real daemon, watcher and disk (subprocess)', () => {
  let ws: Workspace;
  let outside: string;
  let daemon: ReturnType<typeof startCli> | null = null;

  const start = async (): Promise<void> => {
    daemon = startCli(['run'], ws.env());
    await waitFor(
      () => /listening on/.test(daemon!.output().stdout),
      60_000,
      `daemon start\n${daemon.output().stderr.slice(-2000)}`,
    );
  };
  const stop = async (): Promise<void> => {
    const d = daemon!;
    daemon = null;
    d.child.kill('SIGTERM');
    const r = await d.exited;
    assert.equal(r.code, 0, `daemon exit code\n${r.stderr.slice(-3000)}`);
  };

  before(async () => {
    ws = workspace({
      completeness: { stableWindowMs: 1500 },
      landing: { rescanIntervalMs: 500 },
      processor: { triggerIntervalMs: 200 },
    });
    outside = mkdtempSync(path.join(tmpdir(), 'seamline-outside-'));
    writeFileSync(path.join(outside, 'secret.jsonl'), jsonl([rec('secret-1'), rec('secret-2')]));
    symlinkSync(path.join(outside, 'secret.jsonl'), path.join(ws.landing, 'secret.jsonl'));
    await start();
  });
  after(async () => {
    if (daemon) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    ws.cleanup();
    rmSync(outside, { recursive: true, force: true });
  });

  it('a file written in pieces over several seconds lands exactly once, complete; a *.tmp renamed into place lands once', async () => {
    const body = Buffer.from(jsonl(Array.from({ length: 60 }, (_, i) => rec(`piece-${i}`))));
    const p = path.join(ws.landing, 'pieces.jsonl');
    const tmp = path.join(ws.landing, 'renamed.jsonl.tmp');
    writeFileSync(tmp, jsonl(Array.from({ length: 5 }, (_, i) => rec(`renamed-${i}`))));
    const n = 7;
    const step = Math.ceil(body.length / n);
    // The writer holds its descriptor for the whole write (an in-place writer that closes between
    // pieces must pause less than completeness.closedQuietMs: docs/landing.md).
    const fd = openSync(p, 'a');
    try {
      for (let k = 0; k < n; k++) {
        // Pieces are cut at arbitrary bytes (mid-line), 500 ms apart: 3+ seconds in all.
        writeSync(fd, body.subarray(k * step, (k + 1) * step));
        if (k === 3) renameSync(tmp, path.join(ws.landing, 'renamed.jsonl'));
        await sleep(500);
      }
    } finally {
      closeSync(fd);
    }
    await waitFor(
      async () => {
        const got = await ids(ws);
        return [...Array(60).keys()].every((i) => got.has(`piece-${i}`)) && got.has('renamed-4');
      },
      60_000,
      'pieces and renamed searchable',
    );
    const rows = catalog(ws);
    const pieces = rows.filter((r) => r.path === 'pieces.jsonl');
    assert.equal(pieces.length, 1, JSON.stringify(rows));
    assert.deepEqual(
      [pieces[0]!.state, pieces[0]!.records_read, pieces[0]!.records_landed, pieces[0]!.records_quarantined],
      ['unverified', 60, 60, 0],
    );
    assert.equal(rows.filter((r) => r.path === 'renamed.jsonl').length, 1);
    assert.equal(rows.filter((r) => r.path.endsWith('.tmp')).length, 0);
  });

  it('manifest says 100 but the file holds 99 → incomplete, nothing searchable, visible in status; fixing the file lands it', async () => {
    const rs = Array.from({ length: 100 }, (_, i) => rec(`m-${i}`));
    ws.drop('m.manifest.json', JSON.stringify({ records: 100 }));
    ws.drop('m.jsonl', jsonl(rs.slice(0, 99)));
    await waitFor(
      () => catalog(ws).some((r) => r.path === 'm.jsonl' && r.state === 'incomplete'),
      30_000,
      'm.jsonl incomplete',
    );
    const st = await runJson<{
      files: {
        incomplete: number;
        list: { path: string; state: string; detail: string; withheld: number }[];
      };
    }>(['status'], ws.env());
    assert.equal(st.files.incomplete, 1);
    const m = st.files.list.find((f) => f.path === 'm.jsonl')!;
    assert.equal(m.detail, 'record count mismatch: manifest says 100, file holds 99');
    assert.equal(m.withheld, 99);
    await sleep(1000);
    assert.ok(
      ![...(await ids(ws))].some((i) => i.startsWith('m-')),
      'nothing from the incomplete file is searchable',
    );
    appendFileSync(path.join(ws.landing, 'm.jsonl'), JSON.stringify(rs[99]) + '\n');
    await waitFor(
      async () => [...(await ids(ws))].filter((i) => i.startsWith('m-')).length === 100,
      30_000,
      'fixed m.jsonl searchable',
    );
    assert.deepEqual(
      catalog(ws)
        .filter((r) => r.path === 'm.jsonl')
        .map((r) => r.state),
      ['incomplete', 'verified'],
    );
  });

  it('a symlink pointing outside the landing folder is never read, and status reports the refusal', async () => {
    const st = await runJson<{ files: { refused: { rel: string; reason: string }[] } }>(['status'], ws.env());
    assert.ok(
      st.files.refused.some((r) => r.rel === 'secret.jsonl' && /outside the landing folder/.test(r.reason)),
      JSON.stringify(st.files.refused),
    );
    assert.ok(!catalog(ws).some((r) => r.path === 'secret.jsonl'));
    assert.ok(![...(await ids(ws))].some((i) => i.startsWith('secret')));
    assert.match(daemon!.output().stderr, /"event":"file.refused".*secret\.jsonl/);
  });

  it('files dropped while the daemon is stopped land at its next start', async () => {
    await stop();
    ws.drop('offline-a.jsonl', jsonl([rec('offline-a')]));
    ws.drop('sub/offline-b.jsonl', jsonl([rec('offline-b')]));
    await start();
    await waitFor(
      async () => {
        const got = await ids(ws);
        return got.has('offline-a') && got.has('offline-b');
      },
      60_000,
      'offline files searchable after restart',
    );
    const rows = catalog(ws);
    assert.equal(rows.filter((r) => r.path === 'offline-a.jsonl').length, 1);
    assert.equal(rows.filter((r) => r.path === 'sub/offline-b.jsonl').length, 1);
    assert.equal(
      rows.filter((r) => r.path === 'pieces.jsonl').length,
      1,
      'nothing landed twice across the restart',
    );
    await stop();
  });
});
