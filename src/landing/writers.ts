import { readdir, readFile, readlink, stat } from 'node:fs/promises';
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

/**
 * Linux adapter: walks /proc/PID/fd, matches each descriptor's target by dev + inode (stat through
 * the magic link follows renames and hard links), and reads the access mode from fdinfo. Any process
 * whose descriptors cannot be read (another user's, without privileges) makes the answer
 * `unavailable`: a writer could hide there, so callers keep the stability window.
 */
export class ProcOpenWriters implements OpenWriters {
  constructor(private readonly procRoot = '/proc') {}

  async probe(files: readonly FileKey[]): Promise<WriterProbe> {
    const wanted = new Set(files.map(keyOf));
    const writers = new Map<string, number[]>();
    if (wanted.size === 0) return { kind: 'checked', writers };
    let pids: string[];
    try {
      pids = (await readdir(this.procRoot)).filter((n) => /^\d+$/.test(n));
    } catch (e) {
      return { kind: 'unavailable', reason: `${this.procRoot} cannot be read (${(e as Error).message})` };
    }
    if (pids.length === 0) return { kind: 'unavailable', reason: `${this.procRoot} lists no processes` };
    let unreadable = 0;
    await Promise.all(
      pids.map(async (pid) => {
        const fdDir = `${this.procRoot}/${pid}/fd`;
        const fds = await this.fdsOf(pid);
        if (fds === 'gone') return;
        if (fds === 'unreadable') {
          unreadable += 1;
          return;
        }
        for (const fd of fds) {
          try {
            // Sockets, pipes and anonymous inodes are not files; skip them without a stat.
            if (!(await readlink(`${fdDir}/${fd}`)).startsWith('/')) continue;
            const st = await stat(`${fdDir}/${fd}`);
            const k = keyOf({ dev: st.dev, ino: st.ino });
            if (!wanted.has(k)) continue;
            if (!fdinfoWrites(await readFile(`${this.procRoot}/${pid}/fdinfo/${fd}`, 'utf8'))) continue;
            const list = writers.get(k) ?? [];
            if (!list.includes(Number(pid))) list.push(Number(pid));
            writers.set(k, list);
          } catch {
            /* the descriptor closed meanwhile */
          }
        }
      }),
    );
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
        return await readdir(`${this.procRoot}/${pid}/fd`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
        try {
          const status = await readFile(`${this.procRoot}/${pid}/status`, 'utf8');
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
