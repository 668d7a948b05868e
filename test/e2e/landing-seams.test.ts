import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { jsonl, runJson, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { withDaemon } from '../helpers/daemon.js';

const rec = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  version: 1,
  event_time: '2026-03-01T10:00:00Z',
  text: `seam test record ${id} about brass compasses`,
  ...extra,
});

interface Row {
  file_id: number;
  path: string;
  state: string;
  records_read: number;
  records_landed: number;
  continuation_of: number | null;
}

/** The file catalog, read-only (the daemon owns the database). */
function catalog(ws: Workspace): Row[] {
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
    return db.prepare('SELECT * FROM files ORDER BY file_id').all() as Row[];
  } catch {
    return []; // before migration 5 ran
  } finally {
    db.close();
  }
}

function bronzeIds(ws: Workspace): string[] {
  const db = openSqlite(path.join(ws.data, 'seamline.db'), {
    synchronous: 'FULL',
    busyTimeoutMs: 2000,
    readonly: true,
  });
  try {
    return (db.prepare('SELECT record_id FROM bronze ORDER BY seq').all() as { record_id: string }[]).map(
      (r) => r.record_id,
    );
  } finally {
    db.close();
  }
}

/**
 * A real writer process: opens the file, appends one record every `everyMs` while holding the
 * descriptor, closes it after the last one. Resolves when it exits.
 */
function slowWriter(file: string, ids: readonly string[], everyMs: number): Promise<void> {
  const lines = ids.map((id) => JSON.stringify(rec(id)) + '\n');
  const src = `
    const fs = require('node:fs');
    const lines = ${JSON.stringify(lines)};
    const fd = fs.openSync(${JSON.stringify(file)}, 'a');
    let i = 0;
    const step = () => {
      fs.writeSync(fd, lines[i++]);
      if (i < lines.length) setTimeout(step, ${everyMs});
      else fs.closeSync(fd);
    };
    step();`;
  const child = spawn(process.execPath, ['-e', src], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

const WRITER_IDS = Array.from({ length: 6 }, (_, i) => `w-${i}`);

describe('landing seams with the real daemon (subprocess)', () => {
  it('no head-of-line blocking: a small file dropped after a heavy one lands while the heavy one is still landing', async () => {
    const ws = workspace({ completeness: { stableWindowMs: 1000 }, landing: { rescanIntervalMs: 500 } });
    try {
      // Heavy: 400,000 records, each quarantined (zone-less time): seconds of landing, nothing to embed.
      const heavy = gzipSync(
        jsonl(
          Array.from({ length: 400_000 }, (_, i) => rec(`h-${i}`, { event_time: '2026-03-01T10:00:00' })),
        ),
      );
      await withDaemon(ws, async () => {
        ws.drop('heavy.jsonl.gz', heavy);
        await waitFor(
          () => catalog(ws).some((r) => r.path === 'heavy.jsonl.gz' && r.state === 'landing'),
          60_000,
          'the heavy file is landing',
          50,
        );
        ws.drop('small.jsonl', jsonl([rec('small-1')]));
        const when = await waitFor(
          () => {
            const rows = catalog(ws);
            const small = rows.find((r) => r.path === 'small.jsonl');
            return small && small.state !== 'landing' ? rows : null;
          },
          120_000,
          'small.jsonl landed',
          50,
        );
        const heavyRow = when.find((r) => r.path === 'heavy.jsonl.gz')!;
        assert.equal(
          heavyRow.state,
          'landing',
          `the small file must land before the heavy one finishes: ${JSON.stringify(when)}`,
        );
        assert.equal(when.find((r) => r.path === 'small.jsonl')!.state, 'unverified');
        await waitFor(
          () => catalog(ws).some((r) => r.path === 'heavy.jsonl.gz' && r.state !== 'landing'),
          300_000,
          'heavy file landed',
          500,
        );
      });
    } finally {
      ws.cleanup();
    }
  });

  it('a writer holding its descriptor open, appending every 1.5 s (over the 1 s window): no record is lost (open-writer check)', async () => {
    const ws = workspace({ completeness: { stableWindowMs: 1000 }, landing: { rescanIntervalMs: 500 } });
    try {
      await withDaemon(ws, async () => {
        const file = path.join(ws.landing, 'slow.jsonl');
        let writing = true;
        const writer = slowWriter(file, WRITER_IDS, 1500).finally(() => (writing = false));
        // While the writer holds it, status says why the file waits.
        let sawReason = false;
        while (writing && !sawReason) {
          const st = await runJson<{ files: { waitingList: { rel: string; reason: string }[] } }>(
            ['status'],
            ws.env(),
          );
          sawReason = st.files.waitingList.some(
            (w) => w.rel === 'slow.jsonl' && w.reason === 'open-for-writing',
          );
        }
        await writer;
        await waitFor(
          () => WRITER_IDS.every((id) => bronzeIds(ws).includes(id)),
          20_000,
          `all 6 records of the slow writer in bronze (got ${JSON.stringify(bronzeIds(ws))})`,
        );
        const rows = catalog(ws).filter((r) => r.path === 'slow.jsonl' && r.state !== 'failed');
        assert.deepEqual(
          rows.map((r) => [r.state, r.records_read, r.continuation_of]),
          [['unverified', 6, null]],
          'landed once, whole, after the writer closed it',
        );
        assert.ok(sawReason, 'status showed slow.jsonl waiting as open-for-writing');
      });
    } finally {
      ws.cleanup();
    }
  });

  it('without the open-writer check: the file lands early, the writer follows it into the archive, and the tail lands as continuations', async () => {
    const ws = workspace({
      completeness: { stableWindowMs: 1000, openWriterCheck: 'off' },
      landing: { rescanIntervalMs: 500 },
    });
    try {
      await withDaemon(ws, async () => {
        const file = path.join(ws.landing, 'slow.jsonl');
        await slowWriter(file, WRITER_IDS, 1500);
        await waitFor(
          () => WRITER_IDS.every((id) => bronzeIds(ws).includes(id)),
          20_000,
          `all 6 records in bronze (got ${JSON.stringify(bronzeIds(ws))})`,
        );
        const rows = catalog(ws).filter((r) => r.path === 'slow.jsonl');
        assert.ok(rows.length >= 2, JSON.stringify(rows));
        assert.equal(rows[0]!.continuation_of, null);
        for (let k = 1; k < rows.length; k++) assert.equal(rows[k]!.continuation_of, rows[k - 1]!.file_id);
        assert.equal(
          rows.reduce((a, r) => a + r.records_read, 0),
          6,
          'every line read exactly once across the continuations',
        );
        assert.equal(bronzeIds(ws).length, 6);
        const st = await runJson<{
          files: { continuations: number };
          landing: { writerCheck: { available: boolean; detail: string } };
        }>(['status'], ws.env());
        assert.equal(st.files.continuations, rows.length - 1);
        assert.equal(st.landing.writerCheck.available, false);
        assert.match(st.landing.writerCheck.detail, /stableWindowMs applies/);
      });
    } finally {
      ws.cleanup();
    }
  });

  it('manifests: NAME.jsonl.manifest.json is matched; orphan and late manifests are reported; a contradicting late one opens an incident; limits refuse with a code', async () => {
    const ws = workspace({
      completeness: { stableWindowMs: 500 },
      landing: { rescanIntervalMs: 300, orphanManifestMs: 500, maxLines: 100_000 },
    });
    try {
      await withDaemon(ws, async (d) => {
        // Long naming, written first, says 10 but the file holds 9: incomplete (was: unverified on main).
        ws.drop('long.jsonl.manifest.json', JSON.stringify({ records: 10 }));
        ws.drop('long.jsonl', jsonl(Array.from({ length: 9 }, (_, i) => rec(`long-${i}`))));
        ws.drop('nobody.manifest.json', JSON.stringify({ records: 1 }));
        ws.drop('late.jsonl', jsonl([rec('late-1'), rec('late-2')]));
        await waitFor(
          () => catalog(ws).some((r) => r.path === 'late.jsonl' && r.state === 'unverified'),
          30_000,
          'late.jsonl landed',
        );
        ws.drop('late.manifest.json', JSON.stringify({ records: 3 }));
        ws.drop('bomb.jsonl.gz', gzipSync(Buffer.alloc(300_000, 0x0a)));
        await waitFor(
          () => catalog(ws).some((r) => r.path === 'bomb.jsonl.gz' && r.state === 'incomplete'),
          30_000,
          'bomb refused',
        );
        const st = await waitFor(
          async () => {
            const s = await runJson<{
              files: { list: { path: string; state: string; detail: string }[] };
              records: { quarantineByCode: Record<string, number> };
              landing: {
                limits: { refused: Record<string, number> };
                manifests: {
                  orphan: number;
                  lateMismatch: number;
                  unmatched: { rel: string; state: string }[];
                  late: { path: string; state: string; detail: string }[];
                };
              };
              incidents: { failureMode: string; status: string; batchId: string }[];
            }>(['status'], ws.env());
            return s.landing.manifests.orphan === 1 && s.landing.manifests.lateMismatch === 1 ? s : null;
          },
          30_000,
          'orphan and late manifests in status',
          300,
        );
        const long = st.files.list.find((f) => f.path === 'long.jsonl')!;
        assert.equal(long.state, 'incomplete');
        assert.match(long.detail, /manifest says 10, file holds 9/);
        assert.deepEqual(st.landing.manifests.unmatched, [
          {
            rel: 'nobody.manifest.json',
            state: 'orphan',
            detail: 'no data file nobody.jsonl / nobody.jsonl.gz / nobody.csv',
          },
        ]);
        assert.equal(st.landing.manifests.late[0]!.path, 'late.manifest.json');
        assert.match(st.landing.manifests.late[0]!.detail, /manifest says 3 records, 2 were read/);
        assert.ok(
          st.incidents.some((i) => i.failureMode === 'late-manifest-mismatch' && i.status === 'open'),
          JSON.stringify(st.incidents),
        );
        assert.equal(st.landing.limits.refused.TOO_MANY_LINES, 1);
        assert.match(st.files.list.find((f) => f.path === 'bomb.jsonl.gz')!.detail, /^TOO_MANY_LINES/);
        const err = d.output().stderr;
        assert.match(err, /"event":"manifest.orphan"/);
        assert.match(err, /"event":"manifest.late_mismatch"/);
        // The late manifest followed its data file into the archive.
        assert.ok(!existsSync(path.join(ws.landing, 'late.manifest.json')));
        const metrics = await waitFor(
          async () => {
            const port = /listening on \S+:(\d+)/.exec(d.output().stdout)?.[1];
            const r = await fetch(`http://127.0.0.1:${port}/metrics`);
            return r.ok ? r.text() : null;
          },
          10_000,
          'metrics',
        );
        assert.match(metrics, /seamline_landing_manifests\{state="orphan"\} 1/);
        assert.match(metrics, /seamline_landing_manifests\{state="late_mismatch"\} 1/);
        assert.ok(readdirSync(ws.landing).includes('nobody.manifest.json'));
      });
    } finally {
      ws.cleanup();
    }
  });
});
