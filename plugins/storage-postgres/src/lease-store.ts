import type { AllocateRequest, AllocateResult, CommitRequest, CommitResult, Lease, LeaseListQuery, LeasePage, LeaseStore } from '@pureboot/core';
import { decodeCursor, encodeCursor, pageLimit } from './cursor';
import type { PgDatabase } from './db';
import { PgStoreError, StorageErrorCodes } from './errors';
import { toLease, type LeaseRow } from './rows';
import { allowedSegments, inRanges } from './segments';

/** Addresses added to a pool segment's free list at a time (see sql/lease-functions.ts). */
export const FILL_CHUNK = 1024;

const LEASE_STATES = new Set(['offered', 'bound', 'released', 'declined', 'expired']);
const COLS = 'address, subnet_id, client_id, mac, hostname, state, expires_at, updated_at';

function checkAddress(a: number, what = 'address'): void {
  if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `${what} must be an IPv4 address as uint32 (got ${a})`, { [what]: a });
}

export interface PgLeaseStoreDeps {
  db: PgDatabase;
  /** Quoted schema name. */
  schema: string;
  /** Waits until the schema is migrated (start). */
  ready: () => Promise<void>;
}

/** LeaseStore on PostgreSQL: allocate and commit are one call of a server-side function each. */
export class PgLeaseStore implements LeaseStore {
  private readonly s: string;
  constructor(private readonly deps: PgLeaseStoreDeps) {
    this.s = deps.schema;
  }

  private async q<R extends object>(text: string, values: unknown[]): Promise<R[]> {
    await this.deps.ready();
    return (await this.deps.db.query(text, values)).rows as R[];
  }

  async allocate(req: AllocateRequest): Promise<AllocateResult> {
    if (req.preferred !== undefined) checkAddress(req.preferred, 'preferred');
    for (const r of [...req.ranges, ...(req.exclude ?? [])]) {
      checkAddress(r.start, 'range start');
      checkAddress(r.end, 'range end');
    }
    if (req.state !== 'offered' && req.state !== 'bound') throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `allocate: state must be offered or bound (got ${String(req.state)})`);
    const segs = allowedSegments(req.ranges, req.exclude);
    // A preferred address must be dynamic (in the ranges, not excluded) unless only it will do (a reservation).
    const preferred = req.preferred !== undefined && (req.preferredOnly === true || inRanges(req.preferred, segs)) ? req.preferred : null;
    const rows = await this.q<LeaseRow & { reused: boolean; reason: string | null }>(
      `SELECT (a.r).*, a.reused, a.reason FROM ${this.s}.pb_allocate($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::bigint[], $11::bigint[], $12) a`,
      [req.subnetId, req.clientId, req.mac, req.hostname ?? null, req.state, req.expiresAt, req.now, preferred, req.preferredOnly === true && preferred !== null, segs.map((x) => x.start), segs.map((x) => x.end), FILL_CHUNK],
    );
    const row = rows[0];
    if (!row || row.address === null) return { ok: false, reason: row?.reason === 'preferred-unavailable' ? 'preferred-unavailable' : 'exhausted' };
    return { ok: true, lease: toLease(row), reused: row.reused };
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    checkAddress(req.address);
    const rows = await this.q<LeaseRow & { reason: string | null }>(`SELECT (c.r).*, c.reason FROM ${this.s}.pb_commit($1, $2, $3, $4, $5, $6, $7) c`, [
      req.subnetId,
      req.address,
      req.clientId,
      req.mac,
      req.hostname ?? null,
      req.expiresAt,
      req.now,
    ]);
    const row = rows[0];
    if (!row || row.address === null) return { ok: false, reason: row?.reason === 'declined' ? 'declined' : 'taken' };
    return { ok: true, lease: toLease(row) };
  }

  async release(address: number, clientId: string, now: number): Promise<Lease | undefined> {
    checkAddress(address);
    const rows = await this.q<LeaseRow>(
      `UPDATE ${this.s}.leases SET state = 'released', expires_at = $3, updated_at = $3 WHERE address = $1 AND client_id = $2 AND state IN ('offered', 'bound') RETURNING ${COLS}`,
      [address, clientId, now],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  async decline(address: number, clientId: string | undefined, subnetId: string, quarantineUntil: number, now: number): Promise<Lease | undefined> {
    checkAddress(address);
    if (clientId !== undefined) {
      const rows = await this.q<LeaseRow>(
        `UPDATE ${this.s}.leases SET state = 'declined', expires_at = $3, updated_at = $4
          WHERE address = $1 AND client_id = $2 AND subnet_id = $5 AND state <> 'free' RETURNING ${COLS}`,
        [address, clientId, quarantineUntil, now, subnetId],
      );
      return rows[0] ? toLease(rows[0]) : undefined;
    }
    // No client: the server itself found the address in use (e.g. a conflict check): quarantine it whoever holds it.
    const rows = await this.q<LeaseRow>(
      `INSERT INTO ${this.s}.leases AS l (address, subnet_id, client_id, mac, state, expires_at, updated_at)
         VALUES ($1, $2, '', '', 'declined', $3, $4)
       ON CONFLICT (address) DO UPDATE SET state = 'declined', expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at,
         subnet_id = EXCLUDED.subnet_id
       WHERE l.state = 'free' OR l.subnet_id = EXCLUDED.subnet_id
       RETURNING ${COLS}`,
      [address, subnetId, quarantineUntil, now],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  async findByClientId(subnetId: string, clientId: string): Promise<Lease | undefined> {
    const rows = await this.q<LeaseRow>(
      `SELECT ${COLS} FROM ${this.s}.leases WHERE subnet_id = $1 AND client_id = $2 AND state <> 'free'
        ORDER BY updated_at DESC, (state IN ('offered', 'bound')) DESC, address LIMIT 1`,
      [subnetId, clientId],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  async findByMac(mac: string): Promise<Lease[]> {
    const rows = await this.q<LeaseRow>(`SELECT ${COLS} FROM ${this.s}.leases WHERE mac = $1 AND state <> 'free' ORDER BY updated_at DESC, address`, [mac.toLowerCase()]);
    return rows.map(toLease);
  }

  async findByAddress(address: number): Promise<Lease | undefined> {
    checkAddress(address);
    const rows = await this.q<LeaseRow>(`SELECT ${COLS} FROM ${this.s}.leases WHERE address = $1 AND state <> 'free'`, [address]);
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  async reclaimExpired(now: number, limit: number): Promise<Lease[]> {
    if (!Number.isInteger(limit) || limit < 1) return [];
    const rows = await this.q<LeaseRow>(
      `UPDATE ${this.s}.leases SET state = 'expired', updated_at = $1
        WHERE address IN (SELECT address FROM ${this.s}.leases
                           WHERE state IN ('offered', 'bound', 'declined') AND expires_at <= $1
                           ORDER BY expires_at, address LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLS}`,
      [now, limit],
    );
    return rows.map(toLease).sort((a, b) => a.expiresAt - b.expiresAt || a.address - b.address);
  }

  async list(query: LeaseListQuery): Promise<LeasePage> {
    const limit = pageLimit(query.limit);
    if (query.state !== undefined && !LEASE_STATES.has(query.state)) throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `unknown lease state "${query.state}"`);
    const where = [`state <> 'free'`];
    const values: unknown[] = [];
    if (query.subnetId !== undefined) where.push(`subnet_id = $${values.push(query.subnetId)}`);
    if (query.state !== undefined) where.push(`state = $${values.push(query.state)}`);
    if (query.cursor !== undefined) where.push(`address > $${values.push(decodeCursor<number>('lease', query.cursor, 'number'))}`);
    const rows = await this.q<LeaseRow>(`SELECT ${COLS} FROM ${this.s}.leases WHERE ${where.join(' AND ')} ORDER BY address LIMIT $${values.push(limit + 1)}`, values);
    const items = rows.slice(0, limit).map(toLease);
    return rows.length > limit ? { items, nextCursor: encodeCursor('lease', items[items.length - 1].address) } : { items };
  }
}
