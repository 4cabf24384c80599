import crypto from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { skipOrFail, type SkippableContext } from '@pureboot/core/testing';
import type { Logger } from '@pureboot/core';
import { createPostgresStores, type PostgresOptions, type PostgresStores } from '../../src/index';

/** The test server (trust auth); override with PUREBOOT_TEST_PG_URL. */
export const PG_URL = process.env.PUREBOOT_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export const silentLogger = (): Logger => pino({ level: 'silent' });

/** Skips (or fails under PUREBOOT_REQUIRE_ALL=1) when the test PostgreSQL does not answer. */
export async function requirePostgres(ctx: SkippableContext): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    skipOrFail(ctx, `PostgreSQL at ${PG_URL} not reachable (${(err as Error).message}); see TESTBED.md to start it`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A fresh schema name for one suite: pb_t_<random>. */
export function randomSchema(prefix = 'pb_t'): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

export function openStores(schema: string, extra: Partial<PostgresOptions> = {}, logger = silentLogger()): PostgresStores {
  return createPostgresStores({ connectionString: PG_URL, schema, poolSize: 4, ...extra }, { logger });
}
