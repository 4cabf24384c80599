import { Counter, Gauge, type Registry } from 'prom-client';

export interface PgMetrics {
  errors: Counter<'code'>;
  up: Gauge;
}

export function createMetrics(registry: Registry): PgMetrics {
  const registers = [registry];
  return {
    errors: new Counter({ name: 'pureboot_storage_postgres_errors_total', help: 'Failed PostgreSQL store calls, by error code', labelNames: ['code'], registers }),
    up: new Gauge({ name: 'pureboot_storage_postgres_up', help: '1 while PostgreSQL answers, 0 after a connection failure until it answers again', registers }),
  };
}
