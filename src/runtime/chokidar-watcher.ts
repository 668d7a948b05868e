import { watch } from 'chokidar';
import type { WatchFolder } from '../ports/watcher.js';

/** The Watcher port on chokidar (the only module importing it). */
export const chokidarWatch: WatchFolder = (dir, opts, onChange, onError) => {
  const w = watch(dir, {
    ignoreInitial: true,
    persistent: true,
    awaitWriteFinish: false,
    depth: opts.depth,
    followSymlinks: false,
  });
  w.on('all', onChange);
  w.on('error', onError);
  let closing: Promise<void> | null = null;
  return { close: () => (closing ??= w.close()) };
};
