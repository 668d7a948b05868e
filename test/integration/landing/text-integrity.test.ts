import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { BronzeSql, SqliteBronze } from '../../../src/store/sqlite/bronze.js';
import { ContractSchema } from '../../../src/config/schema.js';
import { buildContract } from '../../../src/contract/contract.js';
import { openSqlite } from '../../../src/store/sqlite/db.js';
import { Loader } from '../../../src/landing/loader.js';
import { LandingService } from '../../../src/landing/service.js';
import { noFaults } from '../../../src/runtime/fault.js';
import { systemClock } from '../../../src/ports/clock.js';

// Issue 12 item 7, through the real loader into a real SQLite file: nothing is silently fixed.

const dir = mkdtempSync(path.join(tmpdir(), 'seamline-text-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function land(content: string): Promise<{
  bronze: SqliteBronze;
  texts: string[];
  q: { code: string; field: string | null; message: string }[];
}> {
  const root = mkdtempSync(path.join(dir, 'case-'));
  const landing = path.join(root, 'landing');
  mkdirSync(landing);
  const db = openSqlite(path.join(root, 'data', 'seamline.db'), {
    synchronous: 'NORMAL',
    busyTimeoutMs: 1000,
  });
  const bronze = new SqliteBronze(new BronzeSql(db));
  const clock = { nowMs: () => 1_700_000_000_000, sleep: systemClock.sleep };
  const logger = pino({ level: 'silent' });
  const contract = buildContract(ContractSchema.parse({}));
  const loader = new Loader(
    { bronze, contract, clock, logger, fault: noFaults },
    {
      maxLineBytes: 1 << 20,
      quarantineRawBytes: 256,
      afterLanding: 'keep',
      archiveDir: path.join(root, 'data', 'archive'),
    },
  );
  const service = new LandingService(
    landing,
    ['jsonl'],
    { stableWindowMs: 0, requireManifest: false },
    loader,
    clock,
    logger,
  );
  writeFileSync(path.join(landing, 'a.jsonl.tmp'), content);
  renameSync(path.join(landing, 'a.jsonl.tmp'), path.join(landing, 'a.jsonl'));
  await service.tick();
  await service.tick();
  const f = (await bronze.files())[0]!;
  const texts = (db.prepare('SELECT text FROM bronze ORDER BY seq').all() as { text: string }[]).map(
    (r) => r.text,
  );
  return { bronze, texts, q: await bronze.quarantineFor(f.fileId) };
}

const line = (rest: string): string => `{"id":"a","version":1,"event_time":"2024-01-01T00:00:00Z",${rest}}\n`;

describe('text integrity through the loader (real SQLite)', () => {
  it('a lone surrogate is quarantined with LONE_SURROGATE naming the field, never rewritten to U+FFFD', async () => {
    const r = await land(
      line('"text":"caf\\ud800e"') + line('"text":"ok \\ud83d\\ude00 pair"').replace('"a"', '"b"'),
    );
    assert.deepEqual(r.texts, ['ok \u{1F600} pair'], 'only the well-formed record is in bronze');
    assert.ok(!r.texts.some((t) => t.includes('\uFFFD')));
    assert.equal(r.q.length, 1);
    assert.equal(r.q[0]!.code, 'LONE_SURROGATE');
    assert.equal(r.q[0]!.field, 'text');
  });

  it('BAD_VERSION shows the version exactly as written, not the rounded number', async () => {
    const r = await land(
      line('"text":"x"').replace('"version":1', '"version":9007199254740993') +
        line('"text":"y"').replace('"version":1', '"version":1e400').replace('"a"', '"b"'),
    );
    assert.deepEqual(
      r.q.map((q) => q.code),
      ['BAD_VERSION', 'BAD_VERSION'],
    );
    assert.match(r.q[0]!.message, /got 9007199254740993\b/);
    assert.match(r.q[1]!.message, /got 1e400\b/);
  });
});
