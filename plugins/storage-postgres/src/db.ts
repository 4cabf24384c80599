import pg from 'pg';
import type { Logger } from '@pureboot/core';
import { classify, describeCause, PgErrorCodes, PgStoreError } from './errors';
import type { ResolvedConnection } from './options';

// int8 columns (addresses, epoch ms, sequence numbers) all fit in a JS number: parse them as numbers.
const int8Parser = (v: string) => Number(v);

export interface DbEvents {
  /** Called after each failure classified as the database being unreachable. */
  onUnavailable?(err: PgStoreError): void;
  /** Called when a call succeeds after the database had been unreachable. */
  onRecovered?(): void;
  onError?(code: string): void;
}

const MIN_BACKOFF_MS = 50;
const MAX_RETRIES = 3;

/**
 * A pg pool with error mapping and reconnect backoff. While PostgreSQL is unreachable, calls fail
 * fast with PB_ERR_STORAGE_PG_UNAVAILABLE until the next attempt is due (backoff doubling up to
 * `maxBackoffMs`), so a DHCP storm does not queue thousands of connection attempts; the first call
 * after the pause tries again, and success resets the backoff.
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  private backoffMs = 0;
  private retryAt = 0;
  private down = false;
  private closed = false;

  constructor(
    readonly conn: ResolvedConnection,
    private readonly opts: { logger: Logger; maxBackoffMs: number; events?: DbEvents },
  ) {
    this.pool = new pg.Pool({ ...conn.pool, types: { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? int8Parser : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser } });
    // An idle connection dropped by the server must not crash the process: log it, the pool replaces it.
    this.pool.on('error', (err) => this.opts.logger.warn({ err: describeCause(err), endpoint: conn.endpoint }, 'PostgreSQL connection lost (idle client)'));
  }

  /** Replace the failure/recovery listeners (the plugin wires metrics here). */
  setEvents(events: DbEvents): void {
    this.opts.events = events;
  }

  get endpoint(): string {
    return this.conn.endpoint;
  }

  get isDown(): boolean {
    return this.down;
  }

  /** Run one statement. Serialization failures and deadlocks are retried; everything else is mapped to a PgStoreError code (PgErrorCodes). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.run((c) => c.query<R>(text, values));
  }

  /** A dedicated client for session-level work (advisory locks); the caller releases it. */
  async connect(): Promise<pg.PoolClient> {
    return this.run(() => this.pool.connect());
  }

  private async run<T>(fn: (c: pg.Pool) => Promise<T>): Promise<T> {
    if (this.closed) throw new PgStoreError(PgErrorCodes.CLOSED, `storage-postgres: the store for ${this.endpoint} is closed`);
    const now = Date.now();
    if (this.down && now < this.retryAt) {
      this.opts.events?.onError?.(PgErrorCodes.UNAVAILABLE);
      throw new PgStoreError(PgErrorCodes.UNAVAILABLE, `PostgreSQL at ${this.endpoint} is unavailable; next reconnect attempt in ${this.retryAt - now} ms`, { endpoint: this.endpoint });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await fn(this.pool);
        if (this.down) {
          this.down = false;
          this.backoffMs = 0;
          this.opts.logger.info({ endpoint: this.endpoint }, 'PostgreSQL reachable again');
          this.opts.events?.onRecovered?.();
        }
        return r;
      } catch (err) {
        const kind = classify(err);
        if (kind === 'retryable' && attempt < MAX_RETRIES) continue;
        throw this.mapError(err, kind);
      }
    }
  }

  /** Map a driver error to a PgStoreError (and arm the backoff when the database is unreachable). */
  mapError(err: unknown, kind = classify(err)): PgStoreError {
    if (err instanceof PgStoreError) return err;
    const cause = describeCause(err);
    let e: PgStoreError;
    switch (kind) {
      case 'unavailable': {
        this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
        this.retryAt = Date.now() + this.backoffMs;
        if (!this.down) this.opts.logger.warn({ endpoint: this.endpoint, err: cause }, 'PostgreSQL unreachable; reconnecting with backoff');
        this.down = true;
        e = new PgStoreError(PgErrorCodes.UNAVAILABLE, `PostgreSQL at ${this.endpoint} is unavailable (${cause}); the store reconnects with backoff`, { endpoint: this.endpoint }, err);
        this.opts.events?.onUnavailable?.(e);
        break;
      }
      case 'timeout':
        e = new PgStoreError(PgErrorCodes.TIMEOUT, `PostgreSQL at ${this.endpoint}: statement timed out (${cause}); raise storage-postgres.statementTimeoutMs or check the server load`, { endpoint: this.endpoint }, err);
        break;
      case 'auth':
        e = new PgStoreError(PgErrorCodes.AUTH, `PostgreSQL at ${this.endpoint} refused the login (${cause}); check storage-postgres.user/password or pg_hba.conf`, { endpoint: this.endpoint }, err);
        break;
      case 'database':
        e = new PgStoreError(PgErrorCodes.DATABASE, `PostgreSQL at ${this.endpoint}: database "${this.conn.database}" does not exist; create it (createdb ${this.conn.database}) or fix storage-postgres.database`, { endpoint: this.endpoint, database: this.conn.database }, err);
        break;
      default:
        e = new PgStoreError(PgErrorCodes.QUERY, `PostgreSQL at ${this.endpoint}: query failed (${cause})`, { endpoint: this.endpoint }, err);
    }
    this.opts.events?.onError?.(e.code);
    return e;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
