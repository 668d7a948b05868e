import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { keyOf, ProcOpenWriters } from '../../../src/landing/writers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seamline-writers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real process holding `file` open with `flags` until killed; resolves once it has opened it. */
function holder(file: string, flags: 'a' | 'r' | 'r+'): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('node:fs').openSync(${JSON.stringify(file)}, '${flags}'); console.log('open'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', () => resolve(child));
  });
}

const stop = async (c: ChildProcess): Promise<void> => {
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await done;
};

describe('ProcOpenWriters against real processes (/proc)', { skip: process.platform !== 'linux' }, () => {
  it('sees a process holding the file open for append or read-write, by dev + inode; not a reader; not after exit', async () => {
    const file = path.join(dir, 'held.jsonl');
    writeFileSync(file, '{}\n');
    const st = statSync(file);
    const key = { dev: st.dev, ino: st.ino };
    const probe = new ProcOpenWriters();
    const writer = await holder(file, 'a');
    const reader = await holder(file, 'r');
    try {
      let p = await probe.probe([key]);
      assert.equal(p.kind, 'checked', JSON.stringify(p));
      assert.deepEqual(p.writers.get(keyOf(key)), [writer.pid], 'the appending process, not the reader');
      await stop(writer);
      p = await probe.probe([key]);
      assert.equal(p.kind, 'checked');
      assert.equal(p.writers.get(keyOf(key)), undefined, 'nobody writes once the writer exited');
      const rw = await holder(file, 'r+');
      try {
        p = await probe.probe([key]);
        assert.deepEqual(p.writers?.get(keyOf(key)), [rw.pid]);
      } finally {
        await stop(rw);
      }
    } finally {
      if (writer.exitCode === null && writer.signalCode === null) await stop(writer);
      await stop(reader);
    }
  });

  it('a writer that renamed its file is still found (identity, not path)', async () => {
    const file = path.join(dir, 'before.tmp');
    writeFileSync(file, '');
    const writer = await holder(file, 'a');
    try {
      const moved = path.join(dir, 'after.jsonl');
      const { renameSync } = await import('node:fs');
      renameSync(file, moved);
      const st = statSync(moved);
      const p = await new ProcOpenWriters().probe([{ dev: st.dev, ino: st.ino }]);
      assert.equal(p.kind, 'checked');
      assert.deepEqual(p.writers.get(keyOf({ dev: st.dev, ino: st.ino })), [writer.pid]);
    } finally {
      await stop(writer);
    }
  });

  it('probes asked together share one walk; a probe asked during a walk gets the next one, which sees a writer opened meanwhile', async () => {
    const a = path.join(dir, 'shared-a.jsonl');
    const b = path.join(dir, 'shared-b.jsonl');
    writeFileSync(a, '{}\n');
    writeFileSync(b, '{}\n');
    const ka = { dev: statSync(a).dev, ino: statSync(a).ino };
    const kb = { dev: statSync(b).dev, ino: statSync(b).ino };
    const probe = new ProcOpenWriters();
    const writerA = await holder(a, 'a');
    let writerB: ChildProcess | null = null;
    try {
      const [p1, p2] = await Promise.all([probe.probe([ka]), probe.probe([kb])]);
      assert.equal(probe.walks, 1);
      assert.equal(p1, p2);
      assert.deepEqual(p1.writers?.get(keyOf(ka)), [writerA.pid]);
      assert.equal(p1.writers?.get(keyOf(kb)), undefined);
      // A walk is under way; B is opened for writing after it started: the probe asked now must see it.
      const first = probe.probe([ka]);
      await new Promise((r) => setImmediate(r));
      writerB = await holder(b, 'a');
      const second = probe.probe([kb]);
      assert.notEqual(first, second);
      await first;
      assert.deepEqual((await second).writers?.get(keyOf(kb)), [writerB.pid]);
      assert.equal(probe.walks, 3);
    } finally {
      await stop(writerA);
      if (writerB) await stop(writerB);
    }
  });

  it('no /proc: unavailable, with the reason', async () => {
    const p = await new ProcOpenWriters(path.join(dir, 'no-proc')).probe([{ dev: 1, ino: 1 }]);
    assert.equal(p.kind, 'unavailable');
    assert.match(p.kind === 'unavailable' ? p.reason : '', /cannot be read/);
  });
});
