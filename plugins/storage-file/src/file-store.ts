import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@pureboot/core';
import { DEFAULT_ENGINE_OPTIONS, StoreEngine, engineStores, type Change, type EngineStores, type Redo } from '@pureboot/plugin-storage-memory';
import type { Registry } from 'prom-client';
import { FileStorageError, FileStorageErrorCodes } from './errors';
import { JournalWriter } from './journal-writer';
import { emptyStats, FileStoreMetrics, type FileStoreStats } from './metrics';
import type { FsyncPolicy } from './options';
import { encodeRecord, FILE_HEADER, JOURNAL_MAGIC, scanRecords } from './record-format';
import { readSnapshot, writeSnapshot } from './snapshot';
import { DirLock } from './lock-file';

export interface FileStoreOptions {
  /** The storage folder (created when missing). */
  dir: string;
  fsync?: FsyncPolicy;
  groupCommitMs?: number;
  compactBytes?: number;
  compactIntervalMs?: number;
  /**
   * Journal OFFER holds too (default false). An offer is a short hold (the DHCP plugin's offerHoldSec)
   * that only matters while this process runs: like Kea and dnsmasq, the file store keeps it in
   * memory, and journals the lease when the client REQUESTs it, before the ACK.
   */
  journalOffers?: boolean;
  historyRetention?: number;
  bootEventRetention?: number;
  logger?: Logger;
  metrics?: Registry;
}

const SNAPSHOT = 'snapshot';
const SNAPSHOT_TMP = 'snapshot.tmp';
const JOURNAL_RE = /^journal-(\d+)\.log$/;

function isOfferHold(c: Change): boolean {
  return c.k === 'lease' && c.after.state === 'offered';
}

function journalName(gen: number): string {
  return `journal-${gen}.log`;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

/**
 * The embedded store: the in-memory engine of storage-memory, made durable by an append-only journal
 * (one checksummed record per operation) plus periodic compaction into a snapshot.
 *
 * Files in `dir`: `LOCK` (single writer), `snapshot` (state as of generation G, replaced atomically by
 * rename), `journal-G.log` (operations after that snapshot). Compaction writes `journal-(G+1).log`
 * (empty) and `snapshot.tmp`, fsyncs both, renames the snapshot into place, then drops the old
 * journal; a crash at any point leaves either the old or the new pair, never a mix.
 */
export class FileStore {
  readonly dir: string;
  readonly services: EngineStores;
  readonly stats: FileStoreStats = emptyStats();
  private readonly engine: StoreEngine;
  private readonly policy: FsyncPolicy;
  private readonly journalOffers: boolean;
  private readonly groupMs: number;
  private readonly compactBytes: number;
  private readonly compactIntervalMs: number;
  private readonly log: Logger;
  private readonly metrics: FileStoreMetrics;
  private opening: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;
  private lock: DirLock | null = null;
  private fd = -1;
  private gen = 0;
  private writer: JournalWriter<Change[]> | null = null;
  private compacting: Promise<void> | null = null;
  private interval: NodeJS.Timeout | null = null;

  constructor(o: FileStoreOptions) {
    this.dir = path.resolve(o.dir);
    this.policy = o.fsync ?? 'group';
    this.journalOffers = o.journalOffers ?? false;
    this.groupMs = o.groupCommitMs ?? 50;
    this.compactBytes = o.compactBytes ?? 16 * 1024 * 1024;
    this.compactIntervalMs = o.compactIntervalMs ?? 3_600_000;
    this.log = o.logger ?? silent;
    this.metrics = new FileStoreMetrics(o.metrics, () => this.stats);
    this.engine = new StoreEngine({ historyRetention: o.historyRetention ?? DEFAULT_ENGINE_OPTIONS.historyRetention, bootEventRetention: o.bootEventRetention ?? DEFAULT_ENGINE_OPTIONS.bootEventRetention });
    this.services = engineStores(this.engine, {
      ready: () => this.ready(),
      persist: (changes) => this.persist(changes),
    });
  }

  get journalFile(): string {
    return path.join(this.dir, journalName(this.gen));
  }

  /** Take the lock and load snapshot + journal. Idempotent; store calls open on first use anyway. */
  open(): Promise<void> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  private async ready(): Promise<void> {
    if (this.closed) throw new FileStorageError(FileStorageErrorCodes.CLOSED, `the file store in ${this.dir} is closed`, { dir: this.dir });
    await this.open();
  }

  private async doOpen(): Promise<void> {
    const t0 = Date.now();
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new FileStorageError(FileStorageErrorCodes.OPEN, `cannot create the storage folder ${this.dir}: ${(err as Error).message}`, { dir: this.dir }, { cause: err });
    }
    this.lock = DirLock.acquire(this.dir);
    try {
      this.load();
    } catch (err) {
      if (this.fd >= 0) fs.closeSync(this.fd);
      this.fd = -1;
      this.lock.release();
      this.lock = null;
      if (err instanceof FileStorageError) throw err;
      throw new FileStorageError(FileStorageErrorCodes.OPEN, `cannot open the storage in ${this.dir}: ${(err as Error).message}`, { dir: this.dir }, { cause: err });
    }
    this.stats.loadMs = Date.now() - t0;
    this.log.info(
      { dir: this.dir, generation: this.gen, leases: this.engine.leases.size, nodes: this.engine.nodes.size, journalRecords: this.stats.loadedRecords, ms: this.stats.loadMs, fsync: this.policy },
      'file storage loaded',
    );
    if (this.compactIntervalMs > 0) {
      this.interval = setInterval(() => {
        if (this.stats.journalBytes > FILE_HEADER) void this.compact().catch(() => undefined);
      }, this.compactIntervalMs);
      this.interval.unref();
    }
    if (this.stats.journalBytes > this.compactBytes) await this.compact();
  }

  private corrupt(file: string, offset: number, reason: string): FileStorageError {
    return new FileStorageError(
      FileStorageErrorCodes.CORRUPT,
      `storage file ${file} is damaged at byte offset ${offset}: ${reason}. Nothing was changed; restore the folder from a backup, or move the file away to start from what remains`,
      { file, offset, reason },
    );
  }

  private load(): void {
    const snapFile = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapFile)) {
      const snap = readSnapshot(fs.readFileSync(snapFile));
      if (!snap.ok) throw this.corrupt(snapFile, snap.offset, snap.reason);
      this.gen = snap.gen;
      this.engine.restore(snap.state);
    }
    this.stats.generation = this.gen;
    for (const name of fs.readdirSync(this.dir)) {
      const m = JOURNAL_RE.exec(name);
      const file = path.join(this.dir, name);
      if (name === SNAPSHOT_TMP) fs.rmSync(file, { force: true });
      if (!m) continue;
      const g = Number(m[1]);
      if (g < this.gen) fs.rmSync(file, { force: true });
      else if (g > this.gen) {
        const scan = scanRecords(fs.readFileSync(file), JOURNAL_MAGIC);
        if (!scan.ok || scan.records.length > 0) throw this.corrupt(file, 0, `journal generation ${g} is newer than the snapshot (generation ${this.gen}); the snapshot is missing or older than its journal`);
        fs.rmSync(file, { force: true }); // left by a compaction that did not finish
      }
    }
    const file = this.journalFile;
    if (!fs.existsSync(file)) {
      fs.writeFileSync(file, JOURNAL_MAGIC);
      const fd = fs.openSync(file, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fsyncDir(this.dir);
    }
    const buf = fs.readFileSync(file);
    const scan = scanRecords(buf, JOURNAL_MAGIC);
    if (!scan.ok) throw this.corrupt(file, scan.offset, scan.reason);
    for (const r of scan.records) {
      let redo: Redo[];
      try {
        redo = JSON.parse(r.payload.toString('utf8')) as Redo[];
        if (!Array.isArray(redo)) throw new Error('not a list of changes');
      } catch (err) {
        throw this.corrupt(file, r.offset, `record is not a change list (${(err as Error).message})`);
      }
      this.engine.apply(redo);
    }
    this.stats.loadedRecords = scan.records.length;
    this.fd = fs.openSync(file, 'r+');
    let size = scan.validEnd;
    if (scan.torn || size < FILE_HEADER) {
      const dropped = buf.length - size;
      if (scan.torn) {
        this.stats.tornTails++;
        this.stats.tornBytes += dropped;
        this.metrics.tornTail();
        this.log.warn(
          { code: FileStorageErrorCodes.TORN_TAIL, file, offset: scan.torn.offset, droppedBytes: dropped, reason: scan.torn.reason },
          `${file}: cut off an incomplete last record at offset ${scan.torn.offset} (${dropped} bytes, ${scan.torn.reason}); it was never acknowledged`,
        );
      }
      fs.ftruncateSync(this.fd, size);
      if (size < FILE_HEADER) {
        fs.writeSync(this.fd, JOURNAL_MAGIC, 0, FILE_HEADER, 0);
        size = FILE_HEADER;
      }
      fs.fsyncSync(this.fd);
    }
    this.stats.journalBytes = size;
    this.writer = new JournalWriter<Change[]>(this.fd, size, this.policy, this.groupMs, {
      revert: (tags, err) => this.revert(tags, err),
      written: (bytes, records, fsynced) => {
        this.stats.batches++;
        this.stats.recordsWritten += records;
        if (fsynced) this.stats.fsyncs++;
        this.stats.journalBytes = this.writer?.size ?? this.stats.journalBytes + bytes;
        this.metrics.written(records, fsynced);
        if (this.stats.journalBytes > this.compactBytes && !this.compacting && !this.closed) {
          setImmediate(() => void this.compact().catch(() => undefined));
        }
      },
      synced: (err) => {
        if (!err) {
          this.stats.fsyncs++;
          this.metrics.written(0, true);
          return;
        }
        // Acknowledged records may not survive a power cut: say so loudly, keep serving.
        this.stats.writeFailures++;
        this.metrics.writeFailed('io');
        this.log.error({ code: FileStorageErrorCodes.WRITE, file: this.journalFile, err: (err as Error).message }, `fdatasync of ${this.journalFile} failed: ${(err as Error).message}; recent writes may not survive a power cut`);
      },
    });
  }

  private persist(changes: Change[]): Promise<void> {
    // An operation that only placed OFFER holds is not journaled (journalOffers: false): after a
    // restart the address is free again, and the client's REQUEST commits it or gets a NAK.
    if (!this.journalOffers && changes.every(isOfferHold)) return Promise.resolve();
    const writer = this.writer;
    if (!writer) {
      this.engine.undo(changes);
      return Promise.reject(new FileStorageError(FileStorageErrorCodes.CLOSED, `the file store in ${this.dir} is closed`, { dir: this.dir }));
    }
    const bytes = encodeRecord(Buffer.from(JSON.stringify(StoreEngine.redo(changes)), 'utf8'));
    return writer.append(bytes, changes);
  }

  private revert(tags: Change[][], err: unknown): Error {
    for (let i = tags.length - 1; i >= 0; i--) this.engine.undo(tags[i]);
    this.stats.writeFailures++;
    const full = errnoCode(err) === 'ENOSPC' || errnoCode(err) === 'EDQUOT';
    this.metrics.writeFailed(full ? 'disk-full' : 'io');
    const file = this.journalFile;
    const error = full
      ? new FileStorageError(FileStorageErrorCodes.DISK_FULL, `no space left for the journal ${file}: ${tags.length} write(s) not stored (nothing already stored is affected; writing resumes when space is freed)`, { file, writes: tags.length }, { cause: err })
      : new FileStorageError(FileStorageErrorCodes.WRITE, `writing the journal ${file} failed: ${(err as Error)?.message ?? String(err)}; ${tags.length} write(s) not stored`, { file, writes: tags.length }, { cause: err });
    this.log.error({ code: error.code, file, writes: tags.length, err: (err as Error)?.message }, error.message);
    return error;
  }

  /** Snapshot the state into a new generation and start an empty journal (see the class comment). */
  compact(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const writer = this.writer;
    if (!writer) return Promise.resolve();
    this.compacting ??= writer
      .exclusive(async () => {
        // Synchronous up to the first await: the snapshot holds exactly the acknowledged state plus the
        // writes queued behind it (`queued`), which this compaction then makes durable and acknowledges.
        const newGen = this.gen + 1;
        const state = this.engine.snapshot(); // arrays of immutable records: safe to serialise while writes go on
        let bytes = 0;
        const newJournal = path.join(this.dir, journalName(newGen));
        const tmp = path.join(this.dir, SNAPSHOT_TMP);
        try {
          await writeDurably(newJournal, JOURNAL_MAGIC);
          bytes = await writeSnapshot(tmp, newGen, state);
          await fs.promises.rename(tmp, path.join(this.dir, SNAPSHOT));
        } catch (err) {
          // The rename did not happen: the old snapshot + journal are still the truth.
          await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
          await fs.promises.rm(newJournal, { force: true }).catch(() => undefined);
          this.stats.compactionFailures++;
          this.metrics.compaction('failed');
          this.log.error({ code: FileStorageErrorCodes.COMPACTION, dir: this.dir, err: (err as Error).message }, `compaction of ${this.dir} failed (the store keeps using ${this.journalFile}): ${(err as Error).message}`);
          return { took: false };
        }
        // From here on the new snapshot is the truth: switch to its journal whatever happens.
        try {
          fsyncDir(this.dir);
        } catch (err) {
          this.log.warn({ dir: this.dir, err: (err as Error).message }, 'fsync of the storage folder after compaction failed');
        }
        const oldFile = this.journalFile;
        const fd = fs.openSync(newJournal, 'r+');
        fs.closeSync(this.fd);
        this.fd = fd;
        this.gen = newGen;
        this.stats.generation = newGen;
        this.stats.journalBytes = FILE_HEADER;
        this.stats.compactions++;
        this.metrics.compaction('ok');
        fs.rmSync(oldFile, { force: true });
        this.log.debug({ dir: this.dir, generation: newGen, snapshotBytes: bytes }, 'file storage compacted');
        return { took: true, fd, size: FILE_HEADER };
      })
      .finally(() => {
        this.compacting = null;
      });
    return this.compacting;
  }

  /** Write out everything queued, release the lock. Later calls reject with PB_ERR_STORAGE_CLOSED. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.interval) clearInterval(this.interval);
      this.interval = null;
      if (!this.opening) return;
      try {
        await this.opening;
      } catch {
        return; // never opened: nothing to release
      }
      if (this.compacting) await this.compacting.catch(() => undefined);
      await this.writer?.drain();
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // best effort on the way out
      }
      fs.closeSync(this.fd);
      this.fd = -1;
      this.writer = null;
      this.lock?.release();
      this.lock = null;
    })();
    return this.closing;
  }
}

async function writeDurably(file: string, bytes: Buffer): Promise<void> {
  const h = await fs.promises.open(file, 'w');
  try {
    await h.writeFile(bytes);
    await h.sync();
  } finally {
    await h.close();
  }
}
