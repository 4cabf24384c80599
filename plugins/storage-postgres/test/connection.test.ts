import { expect } from 'chai';
import pg from 'pg';
import { ipToInt, type AllocateRequest, type PurebootError } from '@pureboot/core';
import { waitUntil } from '@pureboot/core/testing';
import { createPostgresStores, resolveConnection, withDefaults, type PostgresStores } from '../src/index';
import { dropSchema, PG_URL, randomSchema, requirePostgres, silentLogger, sql } from './support/pg';
import { TcpProxy, unusedPort } from './support/tcp-proxy';

async function failure(p: Promise<unknown>): Promise<PurebootError> {
  try {
    await p;
  } catch (err) {
    return err as PurebootError;
  }
  throw new Error('expected a failure');
}

const req = (i: number): AllocateRequest => ({
  subnetId: 'conn',
  clientId: `01c0${i}`,
  mac: '52:54:00:00:0c:01',
  ranges: [{ start: ipToInt('198.18.50.1'), end: ipToInt('198.18.50.250') }],
  state: 'bound',
  expiresAt: Date.now() + 3600_000,
  now: Date.now(),
});

describe('storage-postgres: connection options, start errors and database outages', function () {
  this.timeout(30_000);
  const schema = randomSchema('pb_conn');
  const stores: PostgresStores[] = [];
  const open = (o: Parameters<typeof createPostgresStores>[0]) => {
    const s = createPostgresStores({ user: 'postgres', database: 'test', schema, connectTimeoutMs: 1000, maxBackoffMs: 200, ...o }, { logger: silentLogger() });
    stores.push(s);
    return s;
  };
  before(async function () {
    await requirePostgres(this);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  after(() => dropSchema(schema));

  it('resolves host/port or a connection string, and rejects both at once', () => {
    expect(resolveConnection(withDefaults({})).endpoint).to.equal('127.0.0.1:5432');
    const c = resolveConnection(withDefaults({ connectionString: 'postgresql://u:secret@db.example:6543/fleet', poolSize: 3, statementTimeoutMs: 1500 }));
    expect(c.endpoint).to.equal('db.example:6543');
    expect(c.database).to.equal('fleet');
    expect(c.pool).to.deep.include({ max: 3, statement_timeout: 1500 });
    expect(c.endpoint).to.not.include('secret');
    expect(() => resolveConnection(withDefaults({ connectionString: 'postgresql://x@h/db', host: 'other' }))).to.throw().with.property('code', 'PB_ERR_STORAGE_PG_OPTIONS');
  });

  it('nothing listening: start fails with PB_ERR_STORAGE_PG_CONNECT naming host:port and the remedy', async () => {
    const port = await unusedPort();
    const err = await failure(open({ host: '127.0.0.1', port }).start());
    expect(err.code).to.equal('PB_ERR_STORAGE_PG_CONNECT');
    expect(err.message).to.include(`127.0.0.1:${port}`).and.include('ECONNREFUSED').and.include('start PostgreSQL');
  });

  it('a missing database and an unknown role give their own codes and remedies', async () => {
    const db = await failure(open({ host: '127.0.0.1', port: 5432, database: 'pb_no_such_db' }).start());
    expect(db.code).to.equal('PB_ERR_STORAGE_PG_DATABASE');
    expect(db.message).to.include('127.0.0.1:5432').and.include('createdb pb_no_such_db');
    const role = await failure(open({ host: '127.0.0.1', port: 5432, user: 'pb_no_such_role' }).start());
    expect(role.code).to.equal('PB_ERR_STORAGE_PG_AUTH');
    expect(role.message).to.include('127.0.0.1:5432').and.include('pb_no_such_role');
  });

  it('startupWaitMs: start keeps retrying until PostgreSQL appears', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await unusedPort();
    const s = open({ host: '127.0.0.1', port, startupWaitMs: 10_000 });
    const started = s.start();
    await new Promise((r) => setTimeout(r, 600));
    await proxy.start(port);
    try {
      await started;
      expect((await s.leaseStore.allocate(req(1))).ok).to.equal(true);
    } finally {
      await s.close();
      await proxy.cut();
    }
  });

  it('losing the database mid-run: calls fail with PB_ERR_STORAGE_PG_UNAVAILABLE (no crash), and work again when it returns', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await proxy.start();
    const s = open({ host: '127.0.0.1', port, poolSize: 3 });
    try {
      const before = await s.leaseStore.allocate(req(1));
      expect(before.ok).to.equal(true);
      await s.nodeStore.create({ mac: '52:54:00:00:0c:01', state: 'discovered', now: 1 });
      await proxy.cut();
      const errs = await Promise.all([s.leaseStore.allocate(req(2)), s.nodeStore.get('52:54:00:00:0c:01'), s.bootEvents.list('52:54:00:00:0c:01')].map((p) => failure(p)));
      for (const e of errs) {
        expect(e.code).to.equal('PB_ERR_STORAGE_PG_UNAVAILABLE');
        expect(e.message).to.include(`127.0.0.1:${port}`);
      }
      expect(s.db.isDown).to.equal(true);
      await proxy.start(port);
      const back = await waitUntil(
        async () => {
          const r = await s.leaseStore.allocate(req(3)).catch(() => undefined);
          return r?.ok ? r : undefined;
        },
        10_000,
        50,
        'allocate to work again',
      );
      expect(back?.ok).to.equal(true);
      expect(s.db.isDown).to.equal(false);
      if (before.ok) expect((await s.leaseStore.findByAddress(before.lease.address))?.clientId).to.equal('01c01');
      expect((await s.nodeStore.get('52:54:00:00:0c:01'))?.state).to.equal('discovered');
    } finally {
      await s.close();
      await proxy.cut();
    }
  });

  it('PostgreSQL ending the sessions (as in a server restart): no crash, calls work again at once or after one error', async () => {
    const app = `pb_term_${process.pid}_${Date.now()}`;
    const s = open({ connectionString: `${PG_URL}?application_name=${app}`, user: undefined, database: undefined, poolSize: 4 });
    await s.start();
    await Promise.all([1, 2, 3, 4].map((i) => s.leaseStore.allocate(req(10 + i))));
    const killed = await sql<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [app]);
    expect(killed.length).to.be.greaterThan(0);
    const codes: string[] = [];
    const r = await waitUntil(
      async () => {
        try {
          return await s.leaseStore.allocate(req(20));
        } catch (err) {
          codes.push((err as PurebootError).code);
          return undefined;
        }
      },
      10_000,
      50,
      'allocate after the sessions were terminated',
    );
    expect(r?.ok).to.equal(true);
    expect(codes.every((c) => c === 'PB_ERR_STORAGE_PG_UNAVAILABLE'), codes.join()).to.equal(true);
  });

  it('a statement blocked past statementTimeoutMs fails with PB_ERR_STORAGE_PG_TIMEOUT and leaves the store usable', async () => {
    const s = open({ host: '127.0.0.1', port: 5432, statementTimeoutMs: 300 });
    await s.start();
    const address = ipToInt('198.18.50.251');
    const c = await s.leaseStore.commit({ ...req(30), address });
    expect(c.ok).to.equal(true);
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".leases WHERE address = $1 FOR UPDATE`, [address]);
      const err = await failure(s.leaseStore.commit({ ...req(30), address, expiresAt: Date.now() + 7200_000 }));
      expect(err.code).to.equal('PB_ERR_STORAGE_PG_TIMEOUT');
      expect(err.message).to.include('statementTimeoutMs');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect((await s.leaseStore.commit({ ...req(30), address })).ok).to.equal(true);
  });

  it('a closed store refuses calls with PB_ERR_STORAGE_PG_CLOSED', async () => {
    const s = open({ host: '127.0.0.1', port: 5432 });
    await s.start();
    await s.close();
    expect((await failure(s.leaseStore.findByAddress(1))).code).to.equal('PB_ERR_STORAGE_PG_CLOSED');
  });
});
