import type { JsonSchema } from '@pureboot/core';
import type { PoolConfig } from 'pg';
import { PgErrorCodes, PgStoreError } from './errors';

export interface PostgresOptions {
  /** `postgresql://user:pass@host:port/db?…`; alternative to host/port/user/password/database. */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl: boolean;
  /** Schema holding PureBoot's tables (created by the migrations). */
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** How long start() keeps retrying while PostgreSQL is not reachable yet (0: fail at once). */
  startupWaitMs: number;
  /** Longest pause between reconnect attempts after PostgreSQL went away. */
  maxBackoffMs: number;
  /** Transitions kept per machine (oldest dropped first). */
  nodeHistoryLimit: number;
  /** Boot events kept per machine (oldest dropped first). */
  bootEventsPerNode: number;
  /** Boot events older than this are deleted by the periodic prune. */
  bootEventMaxAgeMs: number;
  pruneIntervalMs: number;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 5432,
  database: 'pureboot',
} as const;

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    connectionString: { type: 'string', minLength: 1, pattern: '^postgres(ql)?://', description: 'postgresql://user:password@host:port/database (instead of host/port/user/password/database).' },
    host: { type: 'string', minLength: 1, maxLength: 255, description: `Server host name, address or Unix socket directory (default ${DEFAULTS.host}).` },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: `Server port (default ${DEFAULTS.port}).` },
    user: { type: 'string', minLength: 1, maxLength: 63, description: 'Role to log in as (default: PGUSER or the OS user).' },
    password: { type: 'string', maxLength: 1024 },
    database: { type: 'string', minLength: 1, maxLength: 63, description: `Database name (default ${DEFAULTS.database}); must exist.` },
    ssl: { type: 'boolean', default: false },
    schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'pureboot', description: 'Schema for the tables; created by the migrations.' },
    poolSize: { type: 'integer', minimum: 1, maximum: 200, default: 10 },
    statementTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000, default: 5000 },
    connectTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 5000 },
    startupWaitMs: { type: 'integer', minimum: 0, maximum: 600000, default: 0 },
    maxBackoffMs: { type: 'integer', minimum: 10, maximum: 600000, default: 5000 },
    nodeHistoryLimit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
    bootEventsPerNode: { type: 'integer', minimum: 1, maximum: 1000000, default: 1000 },
    bootEventMaxAgeMs: { type: 'integer', minimum: 60000, default: 30 * 24 * 3600 * 1000 },
    pruneIntervalMs: { type: 'integer', minimum: 1000, maximum: 86400000, default: 60000 },
  },
};

/** Options with every default filled in (for use outside a PureBoot config, e.g. benches and tests). */
export function withDefaults(o: Partial<PostgresOptions>): PostgresOptions {
  return {
    ssl: false,
    schema: 'pureboot',
    poolSize: 10,
    statementTimeoutMs: 5000,
    connectTimeoutMs: 5000,
    startupWaitMs: 0,
    maxBackoffMs: 5000,
    nodeHistoryLimit: 100,
    bootEventsPerNode: 1000,
    bootEventMaxAgeMs: 30 * 24 * 3600 * 1000,
    pruneIntervalMs: 60000,
    ...o,
  };
}

export interface ResolvedConnection {
  pool: PoolConfig;
  /** `host:port` for messages (never contains the password). */
  endpoint: string;
  database: string;
}

/** Turn the options into a pg pool config; rejects contradictory settings. */
export function resolveConnection(o: PostgresOptions): ResolvedConnection {
  const common: PoolConfig = {
    max: o.poolSize,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    // The client gives up a little after the server would have, so a vanished server cannot hang a call.
    query_timeout: o.statementTimeoutMs + 2000,
    idleTimeoutMillis: 30000,
    keepAlive: true,
    application_name: 'pureboot',
  };
  if (o.connectionString !== undefined) {
    const explicit = (['host', 'port', 'user', 'password', 'database'] as const).filter((k) => o[k] !== undefined);
    if (explicit.length > 0) {
      throw new PgStoreError(PgErrorCodes.OPTIONS, `storage-postgres: give either connectionString or ${explicit.join('/')}, not both`, { keys: explicit });
    }
    let url: URL;
    try {
      url = new URL(o.connectionString);
    } catch (err) {
      throw new PgStoreError(PgErrorCodes.OPTIONS, `storage-postgres.connectionString is not a valid URL (expected postgresql://user@host:port/database)`, {}, err);
    }
    const host = decodeURIComponent(url.hostname || url.searchParams.get('host') || DEFAULTS.host);
    const port = url.port || url.searchParams.get('port') || String(DEFAULTS.port);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || DEFAULTS.database;
    return { pool: { ...common, connectionString: o.connectionString, ssl: o.ssl || undefined }, endpoint: `${host}:${port}`, database };
  }
  const host = o.host ?? DEFAULTS.host;
  const port = o.port ?? DEFAULTS.port;
  const database = o.database ?? DEFAULTS.database;
  return {
    pool: { ...common, host, port, user: o.user, password: o.password, database, ssl: o.ssl || undefined },
    endpoint: `${host}:${port}`,
    database,
  };
}

/** `"name"` quoted as a PostgreSQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
