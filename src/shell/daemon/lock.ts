/**
 * One rolemap per journal: a lock file next to the journal (`<journal>.lock`), created with
 * O_EXCL, holding who took it (pid, host, start time, command). The daemon holds it for its whole
 * life; an applying `reconcile` holds it for its run. A second holder is refused with the name of
 * the first. A lock left by a dead process (its pid is not alive on this host, or the pid now
 * belongs to a process that started after the lock was taken) is recovered with a warning.
 *
 * The lock is advisory and local: a lock taken on another host (a journal on a shared file system)
 * is never recovered automatically, because its pid cannot be checked from here.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { RolemapError } from '../../core/errors.js';

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command: string;
}

/** Another live rolemap holds the journal's lock. Not retryable by rolemap itself; the CLI exits LOCKED (5). */
export class JournalLockedError extends RolemapError {
  readonly retryable = false;
  constructor(readonly lockPath: string, readonly holder: LockInfo | null, detail?: string) {
    super(
      holder
        ? `the journal is locked by pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (${holder.command}); lock file ${lockPath}${detail ? `: ${detail}` : ''}`
        : `the journal is locked (lock file ${lockPath} cannot be read${detail ? `: ${detail}` : ''})`,
    );
  }
}

/** The lock file cannot be created at all (its folder is missing or not writable): a setup mistake, said plainly. */
export class JournalLockCreateError extends RolemapError {
  readonly retryable = false;
  constructor(readonly lockPath: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const why =
      code === 'ENOENT'
        ? `its folder ${dirname(lockPath)} does not exist (check journal.path; create the folder first, e.g. install -d -m 0750 ${dirname(lockPath)})`
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `its folder ${dirname(lockPath)} is not writable by this user (${code})`
          : code;
    super(`cannot create the journal lock ${lockPath}: ${why}`, { cause });
  }
}

export interface JournalLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export interface AcquireOptions {
  /** What the lock file says the holder is running, e.g. `rolemap daemon --config /etc/rolemap.yaml`. */
  readonly command?: string | undefined;
  readonly clock?: (() => Date) | undefined;
  /** Told when a stale lock is recovered. */
  readonly onStaleRecovered?: ((stale: LockInfo, why: string) => void) | undefined;
  /** Liveness check, for tests; defaults to the real one for this host. */
  readonly isAlive?: ((info: LockInfo) => boolean) | undefined;
}

/** Lock files this process holds, so a second acquire in the same process is refused, not taken for stale. */
const heldHere = new Set<string>();

export function lockPathFor(journalPath: string): string {
  return `${journalPath}.lock`;
}

/** Takes `<journalPath>.lock` or throws JournalLockedError naming the holder. */
export function acquireJournalLock(journalPath: string, options: AcquireOptions = {}): JournalLock {
  const path = lockPathFor(journalPath);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: (options.clock ?? (() => new Date()))().toISOString(),
    command: options.command ?? process.argv.slice(1).join(' '),
  };
  const isAlive = options.isAlive ?? isAliveHere;
  // Two attempts: the second after recovering a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path, info)) {
      heldHere.add(path);
      return makeLock(path, info);
    }
    const raw = readLockText(path);
    if (raw === undefined) continue; // vanished between our open and read: try again
    const holder = parseLock(raw);
    if (!holder) throw new JournalLockedError(path, null, 'its content is not a rolemap lock; remove it by hand if no rolemap is running');
    if (holder.host !== info.host) throw new JournalLockedError(path, holder, 'held on another host, so it is never recovered automatically');
    const dead = heldHere.has(path) ? null : staleReason(holder, isAlive);
    if (!dead || attempt > 0) throw new JournalLockedError(path, holder);
    // Re-read just before removing, so we never remove a lock another process has just recovered.
    if (readLockText(path) !== raw) continue;
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    options.onStaleRecovered?.(holder, dead);
  }
  const holder = parseLock(readLockText(path) ?? '');
  throw new JournalLockedError(path, holder);
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new JournalLockCreateError(path, e);
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function makeLock(path: string, info: LockInfo): JournalLock {
  let released = false;
  const mine = JSON.stringify(info);
  return {
    path,
    info,
    release(): void {
      if (released) return;
      released = true;
      heldHere.delete(path);
      const raw = readLockText(path);
      if (raw !== undefined && raw.trim() === mine) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}

function readLockText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function parseLock(raw: string): LockInfo | null {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string') {
      return { pid: v.pid, host: v.host, startedAt: v.startedAt, command: typeof v.command === 'string' ? v.command : '' };
    }
  } catch {
    // not JSON
  }
  return null;
}

/** Why the holder is dead, or null when it may be alive. */
function staleReason(holder: LockInfo, isAlive: (info: LockInfo) => boolean): string | null {
  if (holder.pid === process.pid) return `pid ${holder.pid} is this process, which did not take the lock (left from before a restart)`;
  if (!isAlive(holder)) return `pid ${holder.pid} is not running on ${holder.host}`;
  return null;
}

/** The pid runs here and (on Linux) did not start after the lock was written (pid reuse after a reboot). */
export function isAliveHere(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to another user.
  }
  const started = processStartTime(info.pid);
  const lockedAt = Date.parse(info.startedAt);
  if (started !== null && Number.isFinite(lockedAt) && started.getTime() > lockedAt + 5_000) return false;
  return true;
}

/** Linux: when a process started, from /proc; null elsewhere or when unreadable. */
function processStartTime(pid: number): Date | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) counted after the `(comm)` field, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (!Number.isFinite(ticks) || btime === undefined) return null;
    const USER_HZ = 100; // fixed at 100 in Linux's user-facing ABI
    return new Date((Number(btime) + ticks / USER_HZ) * 1000);
  } catch {
    return null;
  }
}
