/** A running watch on a folder; close() is idempotent. */
export interface Watcher {
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Folder depth to watch below the root. */
  readonly depth: number;
}

/**
 * Starts watching `dir`: `onChange` on any add/change/unlink (a hint only — events can be lost or
 * early; the daemon's periodic rescan is the source of truth), `onError` for watcher failures (never
 * thrown). Symlinks are not followed and files present at start raise no event.
 */
export type WatchFolder = (
  dir: string,
  opts: WatchOptions,
  onChange: () => void,
  onError: (e: unknown) => void,
) => Watcher;
