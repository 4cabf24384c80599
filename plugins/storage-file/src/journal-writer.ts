import fs from 'node:fs';
import type { FsyncPolicy } from './options';

/** One acknowledged-on-durability write waiting in the queue. */
export interface PendingWrite<T> {
  bytes: Buffer;
  /** What the store needs to undo the write's in-memory effects if it fails. */
  tag: T;
  resolve(): void;
  reject(err: unknown): void;
}

export interface JournalWriterEvents<T> {
  /** A batch (and everything queued behind it) failed: undo these, newest last, then they are rejected. */
  revert(tags: T[], err: unknown): Error;
  /** After every successful batch. */
  written(bytes: number, records: number, fsynced: boolean): void;
  /** The `group` policy's background fdatasync finished (err when it failed). */
  synced(err?: unknown): void;
}

function writeAll(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      if (off >= buf.length) return resolve();
      fs.write(fd, buf, off, buf.length - off, position + off, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' }));
        step(off + n);
      });
    };
    step(0);
  });
}

/** Batches up to this size are written inline; larger ones go to the thread pool (no long stall). */
const INLINE_WRITE_MAX = 64 * 1024;

/** The whole buffer at `position` (write(2) may write less than asked). */
function writeAllSync(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.writeSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    off += n;
  }
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/**
 * Appends records to the journal file with positional writes. The small writes of one event-loop turn
 * form a batch, written with one write(2) from the main thread at the end of the turn (setImmediate):
 * to the page cache that is a few microseconds, less than a thread-pool round trip (Kea's memfile
 * writes inline too). A large record (> 64 KiB) goes to the thread pool at once. Writes queue while a
 * batch is on its way; a batch's writes are acknowledged once its write(2) returned, and with the
 * `always` policy only after the batch's fdatasync too (writes arriving meanwhile share the next one).
 * The `group` policy acknowledges after write(2) — the record is in the kernel, safe from a process
 * crash — and runs one fdatasync at most every `groupMs`, bounding what a power cut can take.
 * When a batch fails, the file is cut back to where the batch began, and that batch and everything
 * queued behind it (built on its in-memory effects) is reverted and rejected, so the file and memory
 * both stay at the last acknowledged state.
 */
export class JournalWriter<T> {
  private pending: PendingWrite<T>[] = [];
  private flushing: Promise<void> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private paused = 0;
  private immediate: NodeJS.Immediate | null = null;
  /** Set when a failed batch could not be cut off again: the file end is unknown, refuse to append. */
  private broken: unknown = null;

  constructor(
    private fd: number,
    /** Bytes of acknowledged data in the file (where the next batch goes). */
    public size: number,
    private readonly policy: FsyncPolicy,
    private readonly groupMs: number,
    private readonly events: JournalWriterEvents<T>,
  ) {}

  get queued(): number {
    return this.pending.length;
  }

  append(bytes: Buffer, tag: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, tag, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.paused > 0 || this.pending.length === 0 || this.immediate) return;
    if (this.pending[0].bytes.length > INLINE_WRITE_MAX) return this.kick();
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.kick();
    });
  }

  /** group policy: one background fdatasync at most every groupMs. */
  private scheduleSync(): void {
    if (this.syncTimer || this.paused > 0) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.syncNow();
    }, this.groupMs);
  }

  private syncNow(): Promise<void> {
    this.syncing ??= fdatasync(this.fd).then(
      () => this.events.synced(),
      (err) => this.events.synced(err),
    ).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** Finish the group policy's pending fdatasync now (no-op for the other policies). */
  private async settleSync(): Promise<void> {
    if (this.syncTimer) {
      clearTimeout(this.syncTimer);
      this.syncTimer = null;
      await this.syncNow();
    }
    if (this.syncing) await this.syncing;
  }

  private kick(): void {
    if (this.flushing || this.paused > 0 || this.pending.length === 0) return;
    this.flushing = this.flushBatch().finally(() => {
      this.flushing = null;
      this.schedule();
    });
  }

  private async flushBatch(): Promise<void> {
    const batch = this.pending.splice(0);
    const buf = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((b) => b.bytes));
    const start = this.size;
    try {
      if (this.broken) throw this.broken;
      if (buf.length <= INLINE_WRITE_MAX) writeAllSync(this.fd, buf, start);
      else await writeAll(this.fd, buf, start);
      if (this.policy === 'always') await fdatasync(this.fd);
    } catch (err) {
      if (!this.broken) {
        try {
          fs.ftruncateSync(this.fd, start);
        } catch (truncErr) {
          // Part of the failed batch may stay on disk after `start`; appending after it could later
          // replay records that were reported as failed. Stop writing until the store is reopened.
          this.broken = Object.assign(new Error(`journal could not be cut back after a failed write (${(truncErr as Error).message}); reopen the store`), { code: 'EIO', cause: truncErr });
        }
      }
      const failed = [...batch, ...this.pending.splice(0)];
      const error = this.events.revert(
        failed.map((f) => f.tag),
        err,
      );
      for (const f of failed) f.reject(error);
      return;
    }
    this.size = start + buf.length;
    this.events.written(buf.length, batch.length, this.policy === 'always');
    for (const b of batch) b.resolve();
    if (this.policy === 'group') this.scheduleSync();
  }

  /** Wait until no batch is in flight, nothing is queued and the group fsync has run. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.pending.length > 0 && this.paused === 0) this.kick();
      else break;
    }
    await this.settleSync();
  }

  /**
   * Run `fn` with writing paused (no batch in flight). `fn` gets the queued writes and may take them
   * over (return true: it made them durable itself, they are acknowledged) or leave them (false).
   */
  async exclusive(fn: (queued: PendingWrite<T>[]) => Promise<{ took: boolean; fd?: number; size?: number }>): Promise<void> {
    this.paused++;
    try {
      while (this.flushing) await this.flushing;
      await this.settleSync();
      const queued = this.pending.splice(0);
      let r: { took: boolean; fd?: number; size?: number };
      try {
        r = await fn(queued);
      } catch (err) {
        this.pending.unshift(...queued);
        throw err;
      }
      if (r.fd !== undefined) this.fd = r.fd;
      if (r.size !== undefined) this.size = r.size;
      if (r.took) for (const q of queued) q.resolve();
      else this.pending.unshift(...queued);
    } finally {
      this.paused--;
      this.schedule();
    }
  }
}
