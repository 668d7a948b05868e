import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { WriterFacts } from './completeness.js';

/** A file's identity: device and inode (what a descriptor points at, whatever the path now is). */
export interface FileKey {
  readonly dev: number;
  readonly ino: number;
}

export const keyOf = (k: FileKey): string => `${k.dev}:${k.ino}`;

/** What one probe saw: per file, the processes holding it open for writing; or why it cannot tell. */
export type WriterProbe =
  | {
      readonly kind: 'unavailable';
      readonly reason: string;
      /** Writers found among the processes that could be read (they still block). */
      readonly writers?: ReadonlyMap<string, readonly number[]>;
    }
  | { readonly kind: 'checked'; readonly writers: ReadonlyMap<string, readonly number[]> };

/** Port: which processes hold these files open for writing. Never throws. */
export interface OpenWriters {
  probe(files: readonly FileKey[]): Promise<WriterProbe>;
}

/** The per-file facts the pure completeness decision takes. */
export function writerFactsFor(p: WriterProbe, f: FileKey): WriterFacts {
  const found = p.writers?.get(keyOf(f));
  if (p.kind === 'unavailable') return found?.length ? { kind: 'checked', writerPids: found } : p;
  return { kind: 'checked', writerPids: p.writers.get(keyOf(f)) ?? [] };
}

/** Used where the check is configured off. */
export const noWriterCheck = (reason = 'completeness.openWriterCheck is off'): OpenWriters => ({
  probe: () => Promise.resolve({ kind: 'unavailable', reason }),
});

/** True when the `flags:` line of /proc/PID/fdinfo/N (octal) grants write access (O_WRONLY or O_RDWR). Pure. */
export function fdinfoWrites(fdinfo: string): boolean {
  const m = /^flags:\s*([0-7]+)/m.exec(fdinfo);
  if (!m) return false;
  return (parseInt(m[1]!, 8) & 0o3) !== 0;
}

/** Main-thread budget of one slice of a /proc walk before it yields to the event loop (ms). */
const WALK_SLICE_MS = 2;
/** Descriptors stat'ed at once (each stat goes to the file's own filesystem, possibly remote). */
const STAT_PARALLEL = 16;
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Linux adapter: walks /proc/PID/fd, matches each descriptor's target by dev + inode (stat through
 * the magic link follows renames and hard links), and reads the access mode from fdinfo. Any process
 * whose descriptors cannot be read (another user's, without privileges) makes the answer
 * `unavailable`: a writer could hide there, so callers keep the stability window.
 *
 * Cost (docs/decisions/processor-event-loop.md): the walk was the daemon's largest main-thread
 * consumer during a backfill (one promise per descriptor, a walk per pass and per landed file).
 * Now /proc itself (readdir, readlink: in-memory, never the files' filesystems) is read
 * synchronously in slices of WALK_SLICE_MS that yield to the event loop; only descriptors that point
 * at a path are stat'ed, asynchronously; and probes asked while a walk runs share the next walk
 * (it starts after they asked, so it sees every writer that existed when they asked).
 */
export class ProcOpenWriters implements OpenWriters {
  /** The walk callers join: not started yet, so it covers their files and starts after they asked. */
  private queued: { readonly keys: Set<string>; readonly result: Promise<WriterProbe> } | null = null;
  private running: Promise<unknown> = Promise.resolve();
  /** Walks done (for tests: how many probes were shared). */
  walks = 0;

  constructor(private readonly procRoot = '/proc') {}

  probe(files: readonly FileKey[]): Promise<WriterProbe> {
    if (files.length === 0) return Promise.resolve({ kind: 'checked', writers: new Map() });
    if (this.queued === null) {
      const keys = new Set<string>();
      const result = this.running.then(() => {
        // From here on, new callers queue the following walk: this one may have passed their writer.
        if (this.queued?.keys === keys) this.queued = null;
        this.walks += 1;
        return this.walk(keys);
      });
      this.queued = { keys, result };
      this.running = result;
    }
    for (const f of files) this.queued.keys.add(keyOf(f));
    return this.queued.result;
  }

  private async walk(wanted: ReadonlySet<string>): Promise<WriterProbe> {
    const writers = new Map<string, number[]>();
    let pids: string[];
    try {
      pids = readdirSync(this.procRoot).filter((n) => /^\d+$/.test(n));
    } catch (e) {
      return { kind: 'unavailable', reason: `${this.procRoot} cannot be read (${(e as Error).message})` };
    }
    if (pids.length === 0) return { kind: 'unavailable', reason: `${this.procRoot} lists no processes` };
    let unreadable = 0;
    // Pass 1 (sync, sliced): the descriptors that point at a path. Sockets, pipes and anonymous
    // inodes are not files; they are skipped without a stat.
    const paths: { pid: string; fd: string }[] = [];
    let sliceStart = performance.now();
    const maybeYield = async (): Promise<void> => {
      if (performance.now() - sliceStart <= WALK_SLICE_MS) return;
      await yieldToLoop();
      sliceStart = performance.now();
    };
    for (const pid of pids) {
      await maybeYield();
      const fds = await this.fdsOf(pid);
      if (fds === 'gone') continue;
      if (fds === 'unreadable') {
        unreadable += 1;
        continue;
      }
      for (const fd of fds) {
        // A readlink under /proc costs tens of µs on a busy VM; a process may hold hundreds of descriptors.
        await maybeYield();
        try {
          if (readlinkSync(`${this.procRoot}/${pid}/fd/${fd}`).startsWith('/')) paths.push({ pid, fd });
        } catch {
          /* the descriptor closed meanwhile */
        }
      }
    }
    // Pass 2 (async, bounded): dev + inode through the magic link, fdinfo only for the files wanted.
    for (let i = 0; i < paths.length; i += STAT_PARALLEL) {
      await Promise.all(
        paths.slice(i, i + STAT_PARALLEL).map(async ({ pid, fd }) => {
          try {
            const st = await stat(`${this.procRoot}/${pid}/fd/${fd}`);
            const k = keyOf({ dev: st.dev, ino: st.ino });
            if (!wanted.has(k)) return;
            if (!fdinfoWrites(await readFile(`${this.procRoot}/${pid}/fdinfo/${fd}`, 'utf8'))) return;
            const list = writers.get(k) ?? [];
            if (!list.includes(Number(pid))) list.push(Number(pid));
            writers.set(k, list);
          } catch {
            /* the descriptor closed meanwhile */
          }
        }),
      );
    }
    if (unreadable > 0)
      return {
        kind: 'unavailable',
        reason: `the descriptors of ${unreadable} process(es) under ${this.procRoot} are unreadable (other users; run with the needed privileges to use the open-writer check)`,
        writers,
      };
    return { kind: 'checked', writers };
  }

  /**
   * The descriptors of a process. Exited and exiting processes are 'gone' (an exiting process answers
   * EACCES even to root: it is given a moment and looked at again); 'unreadable' means another
   * user's process this one may not inspect.
   */
  private async fdsOf(pid: string): Promise<string[] | 'gone' | 'unreadable'> {
    for (let attempt = 0; ; attempt++) {
      try {
        return readdirSync(`${this.procRoot}/${pid}/fd`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
        try {
          const status = readFileSync(`${this.procRoot}/${pid}/status`, 'utf8');
          if (/^State:\s*[ZX]/m.test(status)) return 'gone';
        } catch {
          return 'gone';
        }
        if (attempt >= 1) return 'unreadable';
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** The adapter for this platform and setting. */
export function openWritersFor(setting: 'auto' | 'off'): OpenWriters {
  if (setting === 'off') return noWriterCheck();
  if (process.platform !== 'linux') return noWriterCheck(`no /proc open-writer check on ${process.platform}`);
  return new ProcOpenWriters();
}
