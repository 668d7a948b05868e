import { hostname } from 'node:os';

/** Holder string of this process. */
export const selfHolder = (): string => `${hostname()}:${process.pid}`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a holder string names a process on this host that no longer exists. */
export function holderDead(holder: string): boolean {
  const [host, pid] = holder.split(':');
  return host === hostname() && pid !== undefined && /^\d+$/.test(pid) && !pidAlive(Number(pid));
}
