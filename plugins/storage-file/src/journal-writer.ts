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

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/**
 * Appends records to the journal file with positional writes and group commit. Writes queue while a
 * batch is on its way; each batch is one write(2) (+ one fdatasync unless the policy is `never`), and
 * every write in it is acknowledged only after that. When a batch fails, the file is cut back to where
 * the batch began, and that batch and everything queued behind it (built on its in-memory effects)
 * is reverted and rejected, so the file and memory both stay at the last acknowledged state.
 */
export class JournalWriter<T> {
  private pending: PendingWrite<T>[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private paused = 0;

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
    if (this.flushing || this.timer || this.paused > 0 || this.pending.length === 0) return;
    if (this.policy === 'group' && this.groupMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, this.groupMs);
    } else {
      this.kick();
    }
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
      await writeAll(this.fd, buf, start);
      if (this.policy !== 'never') await fdatasync(this.fd);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, start);
      } catch {
        // the next successful batch overwrites from `start` anyway (positional writes)
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
    this.events.written(buf.length, batch.length, this.policy !== 'never');
    for (const b of batch) b.resolve();
  }

  /** Wait until no batch is in flight and nothing is queued (writes everything queued now). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
        this.kick();
      }
      if (this.flushing) await this.flushing;
      else if (this.pending.length > 0 && this.paused === 0) this.kick();
      else return;
    }
  }

  /**
   * Run `fn` with writing paused (no batch in flight). `fn` gets the queued writes and may take them
   * over (return true: it made them durable itself, they are acknowledged) or leave them (false).
   */
  async exclusive(fn: (queued: PendingWrite<T>[]) => Promise<{ took: boolean; fd?: number; size?: number }>): Promise<void> {
    this.paused++;
    try {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      while (this.flushing) await this.flushing;
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
