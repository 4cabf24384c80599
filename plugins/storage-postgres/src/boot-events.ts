import { bootEventProblem, type BootEventLog, type StoredBootEvent } from '@pureboot/core';
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
    checkEvent(event);
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

  /**
   * One statement for the whole batch: seqs are drawn in the given order, each machine keeps its newest
   * `perNode` (of its old events and the batch's; batch events already beyond that are never written,
   * as if appended and dropped at once), and the statement stores all or nothing.
   */
  async appendMany(events: ReadonlyArray<Omit<StoredBootEvent, 'seq'>>): Promise<StoredBootEvent[]> {
    events.forEach(checkEvent);
    if (events.length === 0) return [];
    await this.deps.ready();
    const s = this.s;
    const r = await this.deps.db.query<EventRow & Record<string, unknown>>(
      `WITH input AS (
         SELECT t.mac, t.at, t.source, t.kind, t.detail, t.ord, nextval(pg_get_serial_sequence($7, 'seq')) AS seq
         FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS u(mac, at, source, kind, detail, ord) ORDER BY ord) t),
       ranked AS (
         SELECT *, row_number() OVER (PARTITION BY mac ORDER BY seq DESC) AS rn, count(*) OVER (PARTITION BY mac) AS k FROM input),
       ins AS (
         INSERT INTO ${s}.boot_events (seq, mac, at, source, kind, detail)
         SELECT seq, mac, at, source, kind, detail FROM ranked WHERE rn <= $6),
       old AS (
         SELECT b.seq, row_number() OVER (PARTITION BY b.mac ORDER BY b.seq DESC) AS rn, m.k
         FROM ${s}.boot_events b JOIN (SELECT mac, max(k) AS k FROM ranked GROUP BY mac) m ON b.mac = m.mac),
       del AS (
         DELETE FROM ${s}.boot_events b USING old WHERE b.seq = old.seq AND old.rn > $6 - old.k)
       SELECT seq, mac, at, source, kind, detail FROM input ORDER BY ord`,
      [
        events.map((e) => e.mac.toLowerCase()),
        events.map((e) => e.at),
        events.map((e) => e.source),
        events.map((e) => e.kind),
        events.map((e) => JSON.stringify(e.detail)),
        this.deps.perNode,
        `${s}.boot_events`, // a value, not SQL text: the schema name never reaches a string literal
      ],
    );
    return r.rows.map(toEvent);
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

function checkEvent(e: Omit<StoredBootEvent, 'seq'>): void {
  const problem = bootEventProblem(e);
  if (problem) throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, problem, {});
}
