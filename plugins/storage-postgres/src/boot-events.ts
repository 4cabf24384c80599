import type { BootEventLog, StoredBootEvent } from '@pureboot/core';
import type { PgDatabase } from './db';
import { PgStoreError, StorageErrorCodes } from './errors';
import { toEvent, type EventRow } from './rows';

export interface PgBootEventDeps {
  db: PgDatabase;
  schema: string;
  ready: () => Promise<void>;
  /** Events kept per machine: each append drops that machine's oldest beyond this. */
  perNode: number;
}

const MAX_LIST = 1000;

/**
 * Append-only boot timeline. `seq` comes from a sequence, so it grows across every server sharing
 * the database (two servers appending at once may commit out of seq order). Retention: a per-machine
 * cap applied on append, and an age limit applied by `prune` (run periodically by the plugin).
 */
export class PgBootEventLog implements BootEventLog {
  private readonly s: string;
  constructor(private readonly deps: PgBootEventDeps) {
    this.s = deps.schema;
  }

  async append(event: Omit<StoredBootEvent, 'seq'>): Promise<StoredBootEvent> {
    await this.deps.ready();
    const mac = event.mac.toLowerCase();
    // The DELETE sees the table as it was before this INSERT, so "keep perNode - 1 old ones" leaves perNode with the new one.
    const r = await this.deps.db.query<EventRow & Record<string, unknown>>(
      `WITH ins AS (
         INSERT INTO ${this.s}.boot_events (mac, at, source, kind, detail) VALUES ($1, $2, $3, $4, $5::jsonb)
         RETURNING seq, mac, at, source, kind, detail),
       cut AS (
         SELECT seq FROM ${this.s}.boot_events WHERE mac = $1 ORDER BY seq DESC OFFSET $6 LIMIT 1),
       del AS (
         DELETE FROM ${this.s}.boot_events b USING cut WHERE b.mac = $1 AND b.seq <= cut.seq)
       SELECT * FROM ins`,
      [mac, event.at, event.source, event.kind, JSON.stringify(event.detail ?? {}), this.deps.perNode - 1],
    );
    return toEvent(r.rows[0]);
  }

  async list(mac: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredBootEvent[]> {
    const limit = opts.limit ?? MAX_LIST;
    if (!Number.isInteger(limit) || limit < 1) throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `boot event list limit must be a positive integer (got ${limit})`, { limit });
    await this.deps.ready();
    const r = await this.deps.db.query<EventRow & Record<string, unknown>>(
      `SELECT seq, mac, at, source, kind, detail FROM ${this.s}.boot_events WHERE mac = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [mac.toLowerCase(), opts.afterSeq ?? 0, Math.min(limit, MAX_LIST)],
    );
    return r.rows.map(toEvent);
  }

  /** Delete events older than `before` (epoch ms); returns how many went. */
  async prune(before: number): Promise<number> {
    await this.deps.ready();
    const r = await this.deps.db.query(`DELETE FROM ${this.s}.boot_events WHERE at < $1`, [before]);
    return r.rowCount ?? 0;
  }
}
