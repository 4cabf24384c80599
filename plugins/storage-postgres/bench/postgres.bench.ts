/**
 * Throughput of the PostgreSQL store against a real server (PUREBOOT_TEST_PG_URL, default the local
 * test database). Each row: operations per second at a given number of calls in flight.
 * Run: node scripts/run-ts.js plugins/storage-postgres/bench/postgres.bench.ts
 */
import crypto from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { createPostgresStores, type PostgresStores } from '../src/index';

const URL = process.env.PUREBOOT_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const NOW = Date.now();
const BASE = 0xc6130000; // 198.19.0.0/16

async function run(inFlight: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return total / s;
}

async function main(): Promise<void> {
  const schema = `pb_bench_${crypto.randomBytes(4).toString('hex')}`;
  const st: PostgresStores = createPostgresStores({ connectionString: URL, schema, poolSize: 16 }, { logger: pino({ level: 'silent' }) });
  await st.start();
  const rows: Array<[string, number, number, number]> = [];
  let clientSeq = 0;
  const allocCommit = (subnet: string, ranges: Array<{ start: number; end: number }>) => async () => {
    const clientId = `01${(clientSeq++).toString(16).padStart(12, '0')}`;
    const o = await st.leaseStore.allocate({ subnetId: subnet, clientId, mac: '52:54:00:00:00:01', ranges, state: 'offered', expiresAt: NOW + 60_000, now: NOW });
    if (!o.ok) throw new Error(`pool exhausted in bench (${subnet})`);
    const c = await st.leaseStore.commit({ subnetId: subnet, address: o.lease.address, clientId, mac: '52:54:00:00:00:01', expiresAt: NOW + 3600_000, now: NOW });
    if (!c.ok) throw new Error(`commit refused: ${c.reason}`);
  };
  try {
    const big = [{ start: BASE, end: BASE + 0xffff }];
    for (const inFlight of [1, 16]) {
      const n = inFlight === 1 ? 2000 : 8000;
      const f = allocCommit('s16', big);
      rows.push(['allocate+commit (DORA pair), /16 pool', inFlight, n, await run(inFlight, n, f)]);
    }
    // pool already holding 10 000 leases: the cost must not grow with what is handed out
    const f2 = allocCommit('s16', big);
    rows.push(['allocate+commit, /16 pool with 10k leases', 16, 5000, await run(16, 5000, f2)]);
    rows.push([
      'commit renew (REQUEST of a bound client)',
      16,
      8000,
      await run(16, 8000, (i) => st.leaseStore.commit({ subnetId: 's16', address: BASE + (i % 10000), clientId: `01${(i % 10000).toString(16).padStart(12, '0')}`, mac: '52:54:00:00:00:01', expiresAt: NOW + 7200_000, now: NOW + 1 })),
    ]);
    for (let i = 0; i < 500; i++) await st.nodeStore.create({ mac: `52:54:00:01:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, state: 'discovered', now: NOW });
    const versions = new Array(500).fill(1);
    rows.push([
      'node update (CAS, lastSeen)',
      16,
      5000,
      await run(16, 5000, async (i) => {
        const k = i % 500;
        const mac = `52:54:00:01:${((k >> 8) & 255).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`;
        const r = await st.nodeStore.update(mac, versions[k], { lastSeen: NOW + i });
        if (r.ok) versions[k] = r.node.version;
        else if (r.reason === 'version-conflict') versions[k] = r.current.version;
      }),
    ]);
    rows.push(['boot event append (cap 1000/machine)', 16, 8000, await run(16, 8000, (i) => st.bootEvents.append({ mac: `52:54:00:02:00:${(i % 50).toString(16).padStart(2, '0')}`, at: NOW + i, source: 'bench', kind: 'dhcp.ack', detail: { i } }))]);
    // The boot timeline stores one event-loop turn's events with one appendMany: 32 events per call,
    // counted in events per second.
    const batchOf = (i: number) => Array.from({ length: 32 }, (_, k) => ({ mac: `52:54:00:03:00:${((i * 32 + k) % 50).toString(16).padStart(2, '0')}`, at: NOW + i, source: 'bench', kind: 'dhcp.ack', detail: { i, k } }));
    rows.push(['boot events, appendMany of 32 (events/s)', 16, 8000, 32 * (await run(16, 250, (i) => st.bootEvents.appendMany!(batchOf(i))))]);
  } finally {
    await st.close();
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  console.log(`storage-postgres @ ${URL.replace(/:[^:@/]*@/, ':***@')}`);
  console.log(`${'operation'.padEnd(44)} ${'in flight'.padStart(9)} ${'ops'.padStart(6)} ${'ops/s'.padStart(9)}`);
  for (const [name, inFlight, n, rate] of rows) console.log(`${name.padEnd(44)} ${String(inFlight).padStart(9)} ${String(n).padStart(6)} ${rate.toFixed(0).padStart(9)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
