import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStorageError, FileStorageErrorCodes } from './errors';

/**
 * Single-writer lock of a storage folder: a `LOCK` file naming the owning process (pid, its start
 * time from /proc so a reused pid is not mistaken for the owner, host). Created with link(2), which
 * fails atomically when the file exists. A lock left by a dead process (SIGKILL, power cut) is taken
 * over: it is renamed away first, and only if the renamed file still names the dead owner is it
 * removed, so two processes racing for a stale lock cannot both win.
 */
interface LockOwner {
  pid: number;
  start?: string;
  host: string;
  at: string;
}

const heldInThisProcess = new Set<string>();

function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(o: LockOwner): boolean {
  if (o.host !== os.hostname()) return true; // cannot tell: assume the other host still runs
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = procStart(o.pid);
  return !(o.start && start && start !== o.start);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof o.pid === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

function describe(o: LockOwner | undefined): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.at}` : 'an unknown owner';
}

export class DirLock {
  private constructor(
    readonly file: string,
    private readonly content: string,
    private readonly key: string,
  ) {}

  static acquire(dir: string): DirLock {
    const file = path.join(dir, 'LOCK');
    const key = fs.realpathSync(dir);
    if (heldInThisProcess.has(key)) {
      throw new FileStorageError(FileStorageErrorCodes.LOCKED, `storage folder ${dir} is already open in this process (${file})`, { file, pid: process.pid });
    }
    const me: LockOwner = { pid: process.pid, start: procStart(process.pid), host: os.hostname(), at: new Date().toISOString() };
    const content = JSON.stringify(me);
    const tmp = path.join(dir, `LOCK.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(tmp, content);
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          fs.linkSync(tmp, file);
          heldInThisProcess.add(key);
          return new DirLock(file, content, key);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const owner = readOwner(file);
        const stale = owner ? !alive(owner) || (owner.pid === process.pid && owner.start === me.start) : false;
        if (!owner) {
          // Unreadable: a lock being written right now, or garbage. Give a writer a moment, then treat it as stale.
          const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
          if (age < 2000) throw new FileStorageError(FileStorageErrorCodes.LOCKED, `storage folder ${dir} is locked (${file} is being written by another process)`, { file });
        } else if (!stale) {
          throw new FileStorageError(
            FileStorageErrorCodes.LOCKED,
            `storage folder ${dir} is in use by ${describe(owner)} (lock file ${file}); only one PureBoot process may use a storage folder — stop the other one or give this one another server.dataDir`,
            { file, owner },
          );
        }
        // Stale: move it aside, and only drop it if what we moved is still the stale owner's lock.
        const aside = `${file}.stale.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
        try {
          fs.renameSync(file, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        const moved = readOwner(aside);
        if (moved && owner && (moved.pid !== owner.pid || moved.start !== owner.start || moved.at !== owner.at) && alive(moved)) {
          // We raced with another process that had just taken the lock: put its lock back.
          try {
            fs.linkSync(aside, file);
          } finally {
            fs.rmSync(aside, { force: true });
          }
          throw new FileStorageError(FileStorageErrorCodes.LOCKED, `storage folder ${dir} is in use by ${describe(moved)} (lock file ${file})`, { file, owner: moved });
        }
        fs.rmSync(aside, { force: true });
      }
      throw new FileStorageError(FileStorageErrorCodes.LOCKED, `could not take the lock ${file} (it keeps changing hands)`, { file });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Remove the lock if it is still ours. */
  release(): void {
    heldInThisProcess.delete(this.key);
    try {
      if (fs.readFileSync(this.file, 'utf8') === this.content) fs.rmSync(this.file, { force: true });
    } catch {
      // already gone
    }
  }
}
