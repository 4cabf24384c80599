import type { Logger } from '@pureboot/core';
import type { PgDatabase } from './db';
import { PgErrorCodes, PgStoreError } from './errors';
import { quoteIdent } from './options';
import { leaseFunctionsSql } from './sql/lease-functions';

export interface Migration {
  version: number;
  name: string;
  /** SQL for the schema `s` (already quoted). */
  sql(s: string): string;
}

/** Versioned schema migrations, applied in order; a version is never edited once released. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'leases, nodes, boot events',
    sql: (s) => `
CREATE TABLE ${s}.leases (
  address bigint PRIMARY KEY CHECK (address BETWEEN 0 AND 4294967295),
  subnet_id text NOT NULL,
  client_id text NOT NULL DEFAULT '',
  mac text NOT NULL DEFAULT '',
  hostname text,
  state text NOT NULL CHECK (state IN ('free', 'offered', 'bound', 'released', 'declined', 'expired')),
  expires_at bigint NOT NULL DEFAULT 0,
  updated_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX leases_free ON ${s}.leases (address) WHERE state = 'free';
CREATE INDEX leases_reusable ON ${s}.leases (updated_at, address) WHERE state IN ('released', 'expired');
CREATE INDEX leases_expiring ON ${s}.leases (expires_at) WHERE state IN ('offered', 'bound', 'declined');
CREATE INDEX leases_client ON ${s}.leases (subnet_id, client_id, updated_at) WHERE state <> 'free';
CREATE INDEX leases_mac ON ${s}.leases (mac) WHERE state <> 'free';
CREATE INDEX leases_subnet_address ON ${s}.leases (subnet_id, address) WHERE state <> 'free';
CREATE TABLE ${s}.pool_fill (
  seg_start bigint NOT NULL,
  seg_end bigint NOT NULL,
  filled_to bigint NOT NULL,
  PRIMARY KEY (seg_start, seg_end)
);
CREATE TABLE ${s}.nodes (
  mac text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('discovered', 'pending', 'installing', 'installed', 'active', 'failed', 'retired')),
  version integer NOT NULL,
  arch text,
  labels jsonb NOT NULL DEFAULT '{}',
  profile text,
  attributes jsonb NOT NULL DEFAULT '{}',
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  state_since bigint NOT NULL,
  history jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX nodes_state ON ${s}.nodes (state, mac);
CREATE INDEX nodes_labels ON ${s}.nodes USING gin (labels jsonb_path_ops);
CREATE TABLE ${s}.boot_events (
  seq bigserial PRIMARY KEY,
  mac text NOT NULL,
  at bigint NOT NULL,
  source text NOT NULL,
  kind text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX boot_events_mac ON ${s}.boot_events (mac, seq);
CREATE INDEX boot_events_at ON ${s}.boot_events (at);
CREATE FUNCTION ${s}.pb_trim_history(h jsonb, lim integer) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(e ORDER BY i), '[]'::jsonb)
  FROM jsonb_array_elements(h) WITH ORDINALITY AS t(e, i)
  WHERE i > jsonb_array_length(h) - lim
$$;
${leaseFunctionsSql(s)}
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Apply pending migrations. Holds a session advisory lock (keyed by the schema name) for the whole
 * run, so servers starting together migrate once: the others wait, then find nothing to do.
 * Returns the versions this call applied.
 */
export async function migrate(db: PgDatabase, schema: string, logger: Logger): Promise<number[]> {
  const s = quoteIdent(schema);
  const client = await db.connect();
  const applied: number[] = [];
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`pureboot-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
      const current = r.rows[0].v ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new PgStoreError(
          PgErrorCodes.MIGRATION,
          `PostgreSQL schema "${schema}" at ${db.endpoint} is at version ${current}, newer than this plugin knows (${SCHEMA_VERSION}); upgrade @pureboot/plugin-storage-postgres on this server`,
          { schema, current, known: SCHEMA_VERSION },
        );
      }
      for (const m of MIGRATIONS.filter((x) => x.version > current)) {
        try {
          await client.query('BEGIN');
          await client.query(m.sql(s));
          await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (err instanceof PgStoreError) throw err;
          const mapped = db.mapError(err);
          if (mapped.code !== PgErrorCodes.QUERY) throw mapped;
          throw new PgStoreError(PgErrorCodes.MIGRATION, `PostgreSQL schema "${schema}" at ${db.endpoint}: migration ${m.version} (${m.name}) failed: ${(err as Error).message}; nothing of it was applied`, { schema, version: m.version }, err);
        }
        applied.push(m.version);
        logger.info({ schema, version: m.version, name: m.name }, 'applied storage migration');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`pureboot-migrate:${schema}`]).catch(() => {
        broken = true;
      });
    }
  } catch (err) {
    throw err instanceof PgStoreError ? err : db.mapError(err);
  } finally {
    client.release(broken);
  }
  return applied;
}
