import { systemClock, type Clock, type Logger } from '@pureboot/core';
import { PgBootEventLog } from './boot-events';
import { PgDatabase, type DbEvents } from './db';
import { describeCause, PgErrorCodes, PgStoreError } from './errors';
import { PgLeaseStore } from './lease-store';
import { migrate } from './migrations';
import { PgNodeStore } from './node-store';
import { quoteIdent, resolveConnection, withDefaults, type PostgresOptions } from './options';

export interface PostgresStoresDeps {
  logger: Logger;
  clock?: Clock;
  events?: DbEvents;
}

/** The three store services on one connection pool, plus their lifecycle. */
export class PostgresStores {
  readonly db: PgDatabase;
  readonly options: PostgresOptions;
  readonly leaseStore: PgLeaseStore;
  readonly nodeStore: PgNodeStore;
  readonly bootEvents: PgBootEventLog;
  /** Migration versions applied by this instance's start (empty when the schema was current). */
  appliedMigrations: number[] = [];
  private starting: Promise<void> | undefined;
  private pruneTimer: unknown;
  private clock: Clock;

  constructor(options: Partial<PostgresOptions>, private readonly deps: PostgresStoresDeps) {
    this.options = withDefaults(options);
    this.clock = deps.clock ?? systemClock;
    this.db = new PgDatabase(resolveConnection(this.options), { logger: deps.logger, maxBackoffMs: this.options.maxBackoffMs, events: deps.events });
    const schema = quoteIdent(this.options.schema);
    const ready = () => this.start();
    this.leaseStore = new PgLeaseStore({ db: this.db, schema, ready });
    this.nodeStore = new PgNodeStore({ db: this.db, schema, ready, clock: () => this.clock, historyLimit: this.options.nodeHistoryLimit });
    this.bootEvents = new PgBootEventLog({ db: this.db, schema, ready, perNode: this.options.bootEventsPerNode });
  }

  /** Use another clock for retention (the kernel's, once services exist). */
  setClock(clock: Clock): void {
    this.clock = clock;
  }

  /**
   * Connect and migrate (once; later calls share the result). A failure is not cached: the next call
   * (or the next store call) tries again.
   */
  start(): Promise<void> {
    if (!this.starting) {
      this.starting = this.doStart().catch((err) => {
        this.starting = undefined;
        throw err;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const deadline = Date.now() + this.options.startupWaitMs;
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        this.appliedMigrations = await migrate(this.db, this.options.schema, this.deps.logger);
        return;
      } catch (err) {
        const e = this.startError(err);
        if (e.code !== PgErrorCodes.CONNECT || Date.now() + wait > deadline) throw e;
        this.deps.logger.warn({ endpoint: this.db.endpoint, err: e.message }, `PostgreSQL not reachable yet; retrying for up to ${deadline - Date.now()} ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Errors at start name host:port and what to do. */
  private startError(err: unknown): PgStoreError {
    const mapped = err instanceof PgStoreError ? err : this.db.mapError(err);
    if (mapped.code !== PgErrorCodes.UNAVAILABLE && mapped.code !== PgErrorCodes.TIMEOUT) return mapped;
    const cause = (mapped as { cause?: unknown }).cause ?? mapped;
    const ep = this.db.endpoint;
    return new PgStoreError(
      PgErrorCodes.CONNECT,
      `cannot connect to PostgreSQL at ${ep} (${describeCause(cause)}); start PostgreSQL there or fix storage-postgres.host/port (or connectionString)`,
      { endpoint: ep },
      cause,
    );
  }

  /** Start the periodic boot-event age prune (the plugin calls this from onStart). */
  startPruning(): void {
    if (this.pruneTimer) return;
    this.pruneTimer = this.clock.setInterval(() => {
      this.bootEvents.prune(this.clock.now() - this.options.bootEventMaxAgeMs).then(
        (n) => n > 0 && this.deps.logger.debug({ deleted: n }, 'pruned old boot events'),
        (err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'boot event prune failed; retrying at the next interval'),
      );
    }, this.options.pruneIntervalMs);
    (this.pruneTimer as { unref?: () => unknown }).unref?.();
  }

  async close(): Promise<void> {
    if (this.pruneTimer) this.clock.clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.starting?.catch(() => undefined);
    await this.db.close();
  }
}

/**
 * Factory for benches, tests and the shared conformance suite: the three stores on PostgreSQL,
 * migrated on first use. Call `close()` when done.
 */
export function createPostgresStores(options: Partial<PostgresOptions>, deps: PostgresStoresDeps): PostgresStores {
  return new PostgresStores(options, deps);
}
