import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { ipToInt } from '@pureboot/core';
import { startProcess, tsNodeArgs, type RunningProcess } from '@pureboot/core/testing';
import { dropSchema, openStores, PG_URL, randomSchema, requirePostgres, sql } from './support/pg';

const WORKER = path.join(__dirname, 'fixtures', 'alloc-worker.ts');

function spawnWorker(env: Record<string, string | number>): RunningProcess {
  return startProcess([process.execPath, ...tsNodeArgs(), WORKER], {
    env: { ...process.env, PB_PG_URL: PG_URL, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
  });
}

describe('storage-postgres: separate processes on one database', function () {
  this.timeout(40_000);
  const schemas: string[] = [];
  const procs: RunningProcess[] = [];
  let admin: pg.Client | undefined;

  before(async function () {
    await requirePostgres(this);
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL', 2000);
    await admin?.end().catch(() => undefined);
    admin = undefined;
    for (const s of schemas.splice(0)) await dropSchema(s);
  });

  it('two processes started together migrate once, then allocate a 200-address pool to exhaustion with no duplicates', async () => {
    const schema = randomSchema('pb_mp');
    schemas.push(schema);
    const [kMigrate, kAllocate] = [Math.floor(Math.random() * 1e9), Math.floor(Math.random() * 1e9) + 1];
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query('SELECT pg_advisory_lock($1), pg_advisory_lock($2)', [kMigrate, kAllocate]);
    const first = ipToInt('198.18.40.1');
    const last = first + 199;
    const common = { PB_SCHEMA: schema, PB_MODE: 'race', PB_FIRST: first, PB_LAST: last, PB_CONCURRENCY: 6, PB_BARRIER_MIGRATE: kMigrate, PB_BARRIER_ALLOCATE: kAllocate };
    const a = spawnWorker({ ...common, PB_TAG: 'proc-a' });
    const b = spawnWorker({ ...common, PB_TAG: 'proc-b' });
    procs.push(a, b);
    await Promise.all([a.waitFor(/WAITING/, 20_000), b.waitFor(/WAITING/, 20_000)]);
    // both are now blocked on the migrate barrier (or about to be): wait until PostgreSQL shows both waiting
    const waiting = async () => {
      const r = await admin!.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`, [kMigrate]);
      return r.rows[0].n as number;
    };
    for (let i = 0; i < 200 && (await waiting()) < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await waiting()).to.equal(2);
    await admin.query('SELECT pg_advisory_unlock($1)', [kMigrate]);
    const migrated = await Promise.all([a.waitFor(/MIGRATED .*/, 20_000), b.waitFor(/MIGRATED .*/, 20_000)]);
    expect(migrated.map((l) => l.replace('MIGRATED ', '')).sort()).to.deep.equal(['[1]', '[]']);
    expect(await sql(`SELECT version FROM "${schema}".schema_migrations`)).to.deep.equal([{ version: 1 }]);
    await admin.query('SELECT pg_advisory_unlock($1)', [kAllocate]);

    const lines = await Promise.all([a.waitFor(/RESULT .*/, 30_000), b.waitFor(/RESULT .*/, 30_000)]);
    const results = lines.map((l) => JSON.parse(l.slice('RESULT '.length)) as { tag: string; addresses: number[]; exhausted: number; refused: number });
    const all = results.flatMap((r) => r.addresses);
    expect(all).to.have.length(200);
    expect(new Set(all).size, 'duplicate addresses').to.equal(200);
    expect(Math.min(...all)).to.equal(first);
    expect(Math.max(...all)).to.equal(last);
    for (const r of results) {
      expect(r.refused, `${r.tag}: commits refused after an offer`).to.equal(0);
      expect(r.exhausted, `${r.tag}: every worker ends on exhaustion`).to.equal(6);
      expect(r.addresses.length, `${r.tag} got a share`).to.be.greaterThan(0);
    }
    // the database agrees: 200 bound leases, one per address, each held by the process that reported it
    const rows = await sql<{ address: number; client_id: string }>(`SELECT address::float8 AS address, client_id FROM "${schema}".leases WHERE state = 'bound' ORDER BY address`);
    expect(rows).to.have.length(200);
    const owner = new Map(results.flatMap((r) => r.addresses.map((x) => [x, r.tag] as const)));
    for (const row of rows) expect(row.client_id.startsWith(`${owner.get(row.address)}-`), `owner of ${row.address}`).to.equal(true);
    await Promise.all([a.exited, b.exited]);
  });

  it('leases committed by a process survive its SIGKILL: a restarted server sees them and never hands them out', async () => {
    const schema = randomSchema('pb_mp');
    schemas.push(schema);
    const first = ipToInt('198.18.41.1');
    const h = spawnWorker({ PB_SCHEMA: schema, PB_MODE: 'hold', PB_TAG: 'holder', PB_FIRST: first, PB_LAST: first + 29 });
    procs.push(h);
    await h.waitFor(/HOLDING/, 20_000);
    const exit = await h.stop('SIGKILL');
    expect(exit.signal).to.equal('SIGKILL');
    const st = openStores(schema);
    try {
      for (let i = 0; i < 20; i++) {
        const l = await st.leaseStore.findByAddress(first + i);
        expect(l, `lease ${i}`).to.deep.include({ state: 'bound', clientId: `holder-${i}` });
      }
      const got: number[] = [];
      for (let i = 0; ; i++) {
        const r = await st.leaseStore.allocate({ subnetId: 'mp', clientId: `new-${i}`, mac: '52:54:00:00:00:03', ranges: [{ start: first, end: first + 29 }], state: 'offered', expiresAt: Date.now() + 60_000, now: Date.now() });
        if (!r.ok) {
          expect(r.reason).to.equal('exhausted');
          break;
        }
        got.push(r.lease.address);
      }
      expect(got.sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 10 }, (_, i) => first + 20 + i));
    } finally {
      await st.close();
    }
  });
});
