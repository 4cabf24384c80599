/**
 * Lease throughput of every storage backend, side by side: allocations/s (DISCOVER → `allocate`,
 * offered) and commits/s (REQUEST → `commit`, renewing bound leases) with 1 and 32 calls in flight.
 * Rows: storage-memory, storage-file with each fsync policy (in a temp folder on the data disk), and
 * storage-postgres when that plugin is in the tree and PostgreSQL answers (PUREBOOT_TEST_PG_URL,
 * default the local test database).
 *
 * Run: npm run bench:storage   (node scripts/run-ts.js plugins/storage-file/bench/storage.bench.ts)
 * Env: BENCH_MAX_OPS (default 20000) and BENCH_MAX_MS (default 3000) bound each measurement.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { LeaseStore } from '@pureboot/core';
import { createMemoryStores } from '@pureboot/plugin-storage-memory';
import { FileStore, type FsyncPolicy } from '@pureboot/plugin-storage-file';

const MAX_OPS = Number(process.env.BENCH_MAX_OPS ?? 20_000);
const MAX_MS = Number(process.env.BENCH_MAX_MS ?? 3_000);
const NOW = Date.UTC(2026, 0, 1);
const POOL_A = { start: 0xc6120000, end: 0xc612ffff }; // 198.18.0.0/16
const POOL_B = { start: 0xc6130000, end: 0xc613ffff }; // 198.19.0.0/16

interface Row {
  backend: string;
  note: string;
  alloc1?: number;
  alloc32?: number;
  commit1?: number;
  commit32?: number;
  skipped?: string;
}

/** Run `op(i)` with `inFlight` callers until maxOps or maxMs; returns operations per second. */
async function measure(inFlight: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + MAX_MS;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const i = next++;
        if (i >= MAX_OPS || Date.now() > deadline) return;
        await op(i);
        done++;
      }
    }),
  );
  return done / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function leaseRow(backend: string, note: string, s: LeaseStore): Promise<Row> {
  const client = (phase: string, i: number) => `01${phase}${i.toString(16).padStart(10, '0')}`;
  const allocate = (phase: string, pool: { start: number; end: number }) => async (i: number) => {
    const r = await s.allocate({ subnetId: `bench-${phase}`, clientId: client(phase, i), mac: '52:54:00:00:00:01', ranges: [pool], state: 'offered', expiresAt: NOW + 60_000, now: NOW });
    if (!r.ok) throw new Error(`${backend}: allocation failed (${r.reason})`);
  };
  const row: Row = { backend, note };
  row.alloc1 = await measure(1, allocate('a', POOL_A));
  // the 32-in-flight pool gets bound leases to renew below
  const bound: Array<{ clientId: string; address: number }> = [];
  const allocB = async (i: number) => {
    const clientId = client('b', i);
    const r = await s.allocate({ subnetId: 'bench-b', clientId, mac: '52:54:00:00:00:02', ranges: [POOL_B], state: 'bound', expiresAt: NOW + 3_600_000, now: NOW });
    if (!r.ok) throw new Error(`${backend}: allocation failed (${r.reason})`);
    bound.push({ clientId, address: r.lease.address });
  };
  row.alloc32 = await measure(32, allocB);
  const renew = (k: number) => async (i: number) => {
    const l = bound[i % bound.length];
    const r = await s.commit({ subnetId: 'bench-b', address: l.address, clientId: l.clientId, mac: '52:54:00:00:00:02', expiresAt: NOW + 7_200_000 + k * 1000 + i, now: NOW + 1 });
    if (!r.ok) throw new Error(`${backend}: commit refused (${r.reason})`);
  };
  row.commit1 = await measure(1, renew(1));
  row.commit32 = await measure(32, renew(2));
  return row;
}

async function memoryRow(): Promise<Row> {
  return leaseRow('storage-memory', 'in-process, no I/O', createMemoryStores().leaseStore);
}

async function fileRow(policy: FsyncPolicy, parent: string): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(parent, 'pb-bench-file-'));
  const store = new FileStore({ dir, fsync: policy });
  try {
    await store.open();
    const row = await leaseRow(`storage-file`, `fsync=${policy}${policy === 'group' ? ' (every 50 ms, default)' : ''}`, store.services.leaseStore);
    row.note += `, ${store.stats.fsyncs} fsyncs for ${store.stats.recordsWritten} records`;
    return row;
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRow(): Promise<Row> {
  const backend = 'storage-postgres';
  const pkg = '@pureboot/plugin-storage-postgres';
  let mod: { createPostgresStores?: (o: Record<string, unknown>, d: { logger: unknown }) => PgStores };
  try {
    // require, not import(): the tsx CommonJS hook is what loads workspace TypeScript here
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(pkg) as typeof mod;
  } catch (err) {
    return { backend, note: '', skipped: `plugin not loadable here (${(err as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.createPostgresStores !== 'function') return { backend, note: '', skipped: 'the plugin exports no createPostgresStores()' };
  const url = process.env.PUREBOOT_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const schema = `pb_bench_${crypto.randomBytes(4).toString('hex')}`;
  const st = mod.createPostgresStores({ connectionString: url, schema, poolSize: 16, startupWaitMs: 2000 }, { logger: pino({ level: 'silent' }) });
  try {
    await st.start();
  } catch (err) {
    await st.close().catch(() => undefined);
    return { backend, note: '', skipped: `PostgreSQL not reachable at ${url.replace(/\/\/[^@]*@/, '//')} (${(err as Error).message.split('\n')[0]})` };
  }
  try {
    return await leaseRow(backend, `${url.replace(/\/\/[^@]*@/, '//')}, pool 16`, st.leaseStore);
  } finally {
    await st.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await st.close();
  }
}

interface PgStores {
  leaseStore: LeaseStore;
  start(): Promise<void>;
  close(): Promise<void>;
  db: { query(sql: string): Promise<unknown> };
}

function fmt(n: number | undefined): string {
  return n === undefined ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

async function main(): Promise<void> {
  // the data disk, not tmpfs: fsync must cost what it costs in a deployment
  const parent = process.env.BENCH_DIR ?? os.tmpdir();
  const rows: Row[] = [];
  rows.push(await memoryRow());
  for (const policy of ['always', 'group', 'never'] as const) rows.push(await fileRow(policy, parent));
  rows.push(await postgresRow());

  const load = await loadTimes(parent);

  const head = ['backend', 'alloc/s @1', 'alloc/s @32', 'commit/s @1', 'commit/s @32', 'notes'];
  const body = rows.map((r) => (r.skipped ? [r.backend, '-', '-', '-', '-', `skipped: ${r.skipped}`] : [r.backend, fmt(r.alloc1), fmt(r.alloc32), fmt(r.commit1), fmt(r.commit32), r.note]));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log(`storage lease throughput (each cell: up to ${MAX_OPS} ops or ${MAX_MS} ms; @N = calls in flight; node ${process.version}, ${os.cpus().length} cpu)`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
  console.log('');
  console.log(`storage-file start-up (open = lock + load) with ${LOAD_LEASES.toLocaleString('en-US')} bound leases written one by one and each renewed once:`);
  console.log(`  from the journal alone (${load.journalRecords.toLocaleString('en-US')} records, ${(load.journalBytes / 1048576).toFixed(1)} MiB): ${load.journalMs} ms`);
  console.log(`  after compaction (snapshot ${(load.snapshotBytes / 1048576).toFixed(1)} MiB + empty journal): ${load.snapshotMs} ms`);
  console.log(`  the compaction itself (writes wait meanwhile): ${load.compactMs} ms`);
}

const LOAD_LEASES = Number(process.env.BENCH_LOAD_LEASES ?? 50_000);

/** Start-up time from a long journal vs. from a compacted snapshot of the same state. */
async function loadTimes(parent: string) {
  const dir = fs.mkdtempSync(path.join(parent, 'pb-bench-load-'));
  try {
    const w = new FileStore({ dir, fsync: 'never', compactBytes: 1 << 30 });
    const { leaseStore } = w.services;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = next++; i < LOAD_LEASES; i = next++) {
          const clientId = `01${i.toString(16).padStart(12, '0')}`;
          const r = await leaseStore.allocate({ subnetId: 'load', clientId, mac: '52:54:00:00:00:03', ranges: [POOL_A, POOL_B], state: 'bound', expiresAt: NOW + 3_600_000, now: NOW });
          if (!r.ok) throw new Error('load bench: pool exhausted');
          await leaseStore.commit({ subnetId: 'load', clientId, mac: '52:54:00:00:00:03', address: r.lease.address, expiresAt: NOW + 7_200_000, now: NOW + 1 });
        }
      }),
    );
    await w.close();
    const journalBytes = fs.statSync(path.join(dir, 'journal-0.log')).size;
    const a = new FileStore({ dir, compactBytes: 1 << 30 });
    await a.open();
    const journalMs = a.stats.loadMs;
    const journalRecords = a.stats.loadedRecords;
    const tc = Date.now();
    await a.compact();
    const compactMs = Date.now() - tc;
    await a.close();
    const snapshotBytes = fs.statSync(path.join(dir, 'snapshot')).size;
    const b = new FileStore({ dir, compactBytes: 1 << 30 });
    await b.open();
    const snapshotMs = b.stats.loadMs;
    await b.close();
    return { journalBytes, journalMs, journalRecords, snapshotBytes, snapshotMs, compactMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
