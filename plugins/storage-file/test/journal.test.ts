import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { encodeRecord, FileStore, FILE_HEADER, RECORD_HEADER } from '@pureboot/plugin-storage-file';
import { dump } from './support/dump';
import { captureLogger } from './support/log-capture';
import { TempDirs } from './support/temp';

const T0 = Date.UTC(2026, 0, 1);
const MACS = ['52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:03'];

async function expectCode(p: Promise<unknown>, code: string): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    expect((err as { code?: string }).code, String(err)).to.equal(code);
    return err as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error(`expected a rejection with ${code}`);
}

/** A mixed series of operations; `after(i)` is called after each one. */
async function workload(store: FileStore, after: (i: number) => Promise<void>): Promise<void> {
  const { leaseStore, nodeStore, bootEvents } = store.services;
  const ranges = [{ start: 100, end: 120 }];
  const ops: Array<() => Promise<unknown>> = [
    () => leaseStore.allocate({ subnetId: 's', clientId: 'c1', mac: MACS[0], ranges, state: 'offered', expiresAt: T0 + 60_000, now: T0 }),
    () => leaseStore.commit({ subnetId: 's', clientId: 'c1', mac: MACS[0], address: 100, hostname: 'one', expiresAt: T0 + 3_600_000, now: T0 + 1 }),
    () => nodeStore.create({ mac: MACS[0], state: 'discovered', labels: { rack: 'a' }, now: T0 }),
    () => bootEvents.append({ mac: MACS[0], at: T0 + 2, source: 'dhcp', kind: 'dhcp.ack', detail: { address: '0.0.0.100' } }),
    () => leaseStore.allocate({ subnetId: 's', clientId: 'c2', mac: MACS[1], ranges, state: 'bound', expiresAt: T0 + 3_600_000, now: T0 + 3 }),
    () => nodeStore.update(MACS[0], 1, { state: 'pending', transition: { reason: 'boot', at: T0 + 4 }, attributes: { serial: 'x'.repeat(40) } }),
    () => leaseStore.decline(101, 'c2', 's', T0 + 7_200_000, T0 + 5),
    () => bootEvents.append({ mac: MACS[1], at: T0 + 6, source: 'tftp', kind: 'tftp.done', detail: { path: 'bios/undionly.kpxe', bytes: 70000 } }),
    () => leaseStore.release(100, 'c1', T0 + 7),
    () => nodeStore.create({ mac: MACS[2], state: 'active', now: T0 + 8 }),
    () => nodeStore.delete(MACS[2]),
    () => leaseStore.reclaimExpired(T0 + 9_000_000, 10),
  ];
  for (const [i, op] of ops.entries()) {
    await op();
    await after(i);
  }
}

describe('storage-file journal', () => {
  const temps = new TempDirs();
  after(() => temps.cleanup());

  it('every byte prefix of a journal loads to exactly the records completed before the cut', async function () {
    this.timeout(60_000);
    const dir = temps.make();
    const store = new FileStore({ dir, fsync: 'never', journalOffers: true });
    await store.open();
    const journal = store.journalFile;
    const boundaries: Array<{ end: number; state: Awaited<ReturnType<typeof dump>> }> = [{ end: FILE_HEADER, state: await dump(store, MACS) }];
    await workload(store, async () => {
      boundaries.push({ end: fs.statSync(journal).size, state: await dump(store, MACS) });
    });
    await store.close();
    const full = fs.readFileSync(journal);
    expect(boundaries.map((b) => b.end)).to.deep.equal([...new Set(boundaries.map((b) => b.end))], 'one record per operation');
    expect(full.length).to.equal(boundaries[boundaries.length - 1].end);

    // thousands of opens: on /dev/shm when there is one (the fsync after each truncation is free there)
    const work = temps.make('pb-storage-prefix-', fs.existsSync('/dev/shm') ? '/dev/shm' : undefined);
    const file = path.join(work, 'journal-0.log');
    let torn = 0;
    for (let cut = 0; cut <= full.length; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const s = new FileStore({ dir: work, fsync: 'never', compactIntervalMs: 0, journalOffers: true });
      await s.open();
      let k = 0;
      while (k + 1 < boundaries.length && boundaries[k + 1].end <= cut) k++;
      const expected = cut < FILE_HEADER ? boundaries[0].state : boundaries[k].state;
      expect(await dump(s, MACS), `prefix of ${cut} bytes`).to.deep.equal(expected);
      const atBoundary = cut === 0 || boundaries.some((b) => b.end === cut);
      expect(s.stats.tornTails, `torn tail detected for a cut at ${cut}`).to.equal(atBoundary ? 0 : 1);
      if (!atBoundary) torn++;
      await s.close();
      // the torn tail was cut off, so the file now ends at the last complete record
      expect(fs.statSync(file).size).to.equal(Math.max(FILE_HEADER, cut < FILE_HEADER ? FILE_HEADER : boundaries[k].end));
    }
    expect(torn).to.be.greaterThan(full.length - 20);
  });

  it('offer holds (default journalOffers: false) stay in memory; the REQUEST\'s commit is journaled before it resolves', async () => {
    const dir = temps.make();
    const ranges = [{ start: 100, end: 101 }];
    const a = new FileStore({ dir, fsync: 'never' });
    await a.open();
    const journal = a.journalFile;
    const empty = fs.statSync(journal).size;
    const offer = await a.services.leaseStore.allocate({ subnetId: 's', clientId: 'c1', mac: MACS[0], ranges, state: 'offered', expiresAt: T0 + 60_000, now: T0 });
    expect(offer.ok && offer.lease.address).to.equal(100);
    expect(fs.statSync(journal).size, 'an offer alone writes nothing').to.equal(empty);
    const other = await a.services.leaseStore.allocate({ subnetId: 's', clientId: 'c2', mac: MACS[1], ranges, state: 'offered', expiresAt: T0 + 60_000, now: T0 });
    expect(other.ok && other.lease.address, 'while running, the hold is respected').to.equal(101);
    const bound = await a.services.leaseStore.commit({ subnetId: 's', clientId: 'c2', mac: MACS[1], address: 101, expiresAt: T0 + 3_600_000, now: T0 + 1 });
    expect(bound.ok).to.equal(true);
    expect(fs.statSync(journal).size, 'the commit is in the journal when it resolves').to.be.greaterThan(empty);
    await a.close();

    // After a restart: the offered address is free (c1 never REQUESTed it), the bound one is kept.
    const b = new FileStore({ dir, fsync: 'never' });
    await b.open();
    expect(await b.services.leaseStore.findByAddress(100)).to.equal(undefined);
    expect((await b.services.leaseStore.findByAddress(101))?.state).to.equal('bound');
    const late = await b.services.leaseStore.commit({ subnetId: 's', clientId: 'c1', mac: MACS[0], address: 100, expiresAt: T0 + 3_600_000, now: T0 + 2 });
    expect(late.ok, "c1's REQUEST after the restart still gets its offered address").to.equal(true);
    const taken = await b.services.leaseStore.commit({ subnetId: 's', clientId: 'c3', mac: MACS[2], address: 101, expiresAt: T0 + 3_600_000, now: T0 + 3 });
    expect(taken.ok ? 'ok' : taken.reason, 'a bound lease is never given away after a restart').to.equal('taken');
    await b.close();

    // journalOffers: true keeps holds across a restart (the full store contract).
    const dir2 = temps.make();
    const c = new FileStore({ dir: dir2, fsync: 'never', journalOffers: true });
    await c.services.leaseStore.allocate({ subnetId: 's', clientId: 'c1', mac: MACS[0], ranges, state: 'offered', expiresAt: T0 + 60_000, now: T0 });
    await c.close();
    const d = new FileStore({ dir: dir2, fsync: 'never', journalOffers: true });
    expect((await d.services.leaseStore.findByAddress(100))?.state).to.equal('offered');
    await d.close();
  });

  it('a torn last record is truncated, logged with its offset and counted; writing goes on after it', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir });
    await workload(a, async () => undefined);
    const journal = a.journalFile;
    await a.close();
    const good = fs.statSync(journal).size;
    // a record cut short: valid header, half the payload
    const extra = Buffer.alloc(RECORD_HEADER + 40);
    const payload = Buffer.from(JSON.stringify([{ k: 'node', mac: 'ff:ff:ff:ff:ff:ff' }]));
    encodeRecord(payload).copy(extra, 0, 0, RECORD_HEADER + 10);
    fs.appendFileSync(journal, extra.subarray(0, RECORD_HEADER + 10));

    const { logger, lines } = captureLogger();
    const metrics = new Registry();
    const b = new FileStore({ dir, logger, metrics });
    await b.open();
    expect(b.stats.tornTails).to.equal(1);
    expect(b.stats.tornBytes).to.equal(RECORD_HEADER + 10);
    expect(fs.statSync(journal).size).to.equal(good);
    const warn = lines.find((l) => l.code === 'PB_ERR_STORAGE_TORN_TAIL');
    expect(warn, JSON.stringify(lines)).to.include({ file: journal, offset: good, droppedBytes: RECORD_HEADER + 10 });
    expect(await metrics.getSingleMetricAsString('pureboot_storage_file_torn_records_total')).to.match(/ 1$/m);
    const before = await dump(b, MACS);
    expect(before.nodes.map((n) => n.mac)).to.deep.equal([MACS[0]]);
    await b.services.nodeStore.create({ mac: MACS[2], state: 'pending', now: T0 });
    await b.close();
    const c = new FileStore({ dir });
    await c.open();
    expect(c.stats.tornTails).to.equal(0);
    expect((await c.services.nodeStore.list({})).items.map((n) => n.mac)).to.deep.equal([MACS[0], MACS[2]]);
    await c.close();
  });

  it('damage in the middle of the journal is an error naming the file and offset, and nothing is changed', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir, journalOffers: true });
    const ends: number[] = [];
    const journal = a.journalFile;
    await workload(a, async () => {
      ends.push(fs.statSync(journal).size);
    });
    await a.close();
    const original = fs.readFileSync(journal);

    // a flipped payload byte in the 4th record
    const bad = Buffer.from(original);
    bad[ends[2] + RECORD_HEADER + 3] ^= 0x20;
    fs.writeFileSync(journal, bad);
    const err = await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_CORRUPT');
    expect(err.message).to.include(journal).and.to.include(`offset ${ends[2]}`);
    expect(err.details).to.include({ file: journal, offset: ends[2] });
    expect(fs.readFileSync(journal).equals(bad), 'the damaged file is left as it was').to.equal(true);
    expect(fs.existsSync(path.join(dir, 'LOCK')), 'the lock is released after a failed open').to.equal(false);

    // a damaged length field in the middle is not mistaken for a torn tail
    const badLen = Buffer.from(original);
    badLen.writeUInt32LE(0x00ffffff, ends[5]);
    fs.writeFileSync(journal, badLen);
    const err2 = await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_CORRUPT');
    expect(err2.details).to.include({ offset: ends[5] });

    // not a journal at all
    fs.writeFileSync(journal, Buffer.from('hello world, this is not a journal'));
    await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_CORRUPT');

    // the original loads again
    fs.writeFileSync(journal, original);
    const ok = new FileStore({ dir });
    await ok.open();
    expect(ok.stats.loadedRecords).to.equal(ends.length);
    await ok.close();
  });

  it('compaction snapshots the state, starts a new journal and reloads identically', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir, compactBytes: 4096, bootEventRetention: 3 });
    const { leaseStore, nodeStore, bootEvents } = a.services;
    for (let i = 0; i < 150; i++) {
      await leaseStore.allocate({ subnetId: 's', clientId: `c${i}`, mac: MACS[i % 3], ranges: [{ start: 1000, end: 2000 }], state: 'bound', expiresAt: T0 + i, now: T0 });
      await bootEvents.append({ mac: MACS[i % 3], at: T0 + i, source: 'dhcp', kind: 'dhcp.ack', detail: { i } });
      if (i % 10 === 0) await nodeStore.create({ mac: `52:54:00:00:01:${(i / 10).toString(16).padStart(2, '0')}`, state: 'discovered', now: T0 + i });
    }
    expect(a.stats.compactions).to.be.greaterThan(3);
    expect(a.stats.compactionFailures).to.equal(0);
    const want = await dump(a, MACS);
    const gen = a.stats.generation;
    await a.close();
    expect(fs.readdirSync(dir).sort()).to.deep.equal([`journal-${gen}.log`, 'snapshot']);
    const b = new FileStore({ dir, bootEventRetention: 3 });
    await b.open();
    expect(await dump(b, MACS)).to.deep.equal(want);
    expect(b.stats.loadedRecords).to.be.lessThan(100, 'startup replays only the journal since the last snapshot');
    const next = await b.services.bootEvents.append({ mac: MACS[0], at: T0, source: 'x', kind: 'y', detail: {} });
    expect(next.seq).to.equal(151);
    await b.close();
  });

  it('writes arriving during compactions are acknowledged once and survive (many in flight)', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir, compactBytes: 4096 });
    // waves of 20 calls, each wave started a moment after the previous one (not after it finished)
    const pending: Array<Promise<{ ok: boolean }>> = [];
    for (let w = 0; w < 30; w++) {
      for (let j = 0; j < 20; j++) {
        const i = w * 20 + j;
        pending.push(a.services.leaseStore.allocate({ subnetId: 's', clientId: `c${i}`, mac: MACS[i % 3], ranges: [{ start: 1, end: 500 }], state: 'bound', expiresAt: T0 + 1e6, now: T0 }));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.ok)).to.have.length(500);
    expect(a.stats.compactions).to.be.greaterThan(0);
    const want = await dump(a, MACS);
    await a.close();
    const b = new FileStore({ dir });
    await b.open();
    expect(await dump(b, MACS)).to.deep.equal(want);
    expect(want.leases).to.have.length(500);
    await b.close();
  });

  it('snapshots larger than one chunk round-trip', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir, fsync: 'never', compactBytes: 1 << 30 });
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = next++; i < 11_000; i = next++) {
          const r = await a.services.leaseStore.allocate({ subnetId: 's', clientId: `c${i}`, mac: MACS[i % 3], ranges: [{ start: 1, end: 20_000 }], state: 'bound', expiresAt: T0 + i, now: T0 });
          expect(r.ok).to.equal(true);
        }
      }),
    );
    await a.compact();
    const want = await a.services.leaseStore.findByMac(MACS[1]);
    await a.close();
    const b = new FileStore({ dir });
    await b.open();
    expect(b.stats.loadedRecords).to.equal(0);
    expect(await b.services.leaseStore.findByMac(MACS[1])).to.deep.equal(want);
    expect(want.length).to.equal(3667);
    let n = 0;
    for (let cursor: string | undefined, first = true; first || cursor; first = false) {
      const p = await b.services.leaseStore.list({ limit: 1000, cursor });
      n += p.items.length;
      cursor = p.nextCursor;
    }
    expect(n).to.equal(11_000);
    await b.close();
  });

  it('loads around an interrupted compaction and refuses a journal newer than its snapshot', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir });
    await workload(a, async () => undefined);
    await a.compact();
    await a.services.nodeStore.create({ mac: MACS[2], state: 'pending', now: T0 });
    const want = await dump(a, MACS);
    await a.close();
    // crash between "new journal + snapshot.tmp written" and the rename
    fs.writeFileSync(path.join(dir, 'journal-2.log'), Buffer.from('PBJRNL01', 'latin1'));
    fs.writeFileSync(path.join(dir, 'snapshot.tmp'), 'half a snapsh');
    // and an old journal the last compaction did not get to delete
    fs.writeFileSync(path.join(dir, 'journal-0.log'), Buffer.from('PBJRNL01', 'latin1'));
    const b = new FileStore({ dir });
    await b.open();
    expect(await dump(b, MACS)).to.deep.equal(want);
    await b.close();
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['journal-1.log', 'snapshot']);

    // a journal with records newer than the snapshot means the snapshot was lost: refuse
    fs.copyFileSync(path.join(dir, 'journal-1.log'), path.join(dir, 'journal-2.log'));
    fs.rmSync(path.join(dir, 'snapshot'));
    const err = await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_CORRUPT');
    expect(err.message).to.include('journal-');
  });

  it('a damaged snapshot is an error naming the snapshot', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir });
    await workload(a, async () => undefined);
    await a.compact();
    await a.close();
    const snap = path.join(dir, 'snapshot');
    const buf = fs.readFileSync(snap);
    buf[buf.length - 5] ^= 1;
    fs.writeFileSync(snap, buf);
    const err = await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_CORRUPT');
    expect(err.message).to.include(snap);
  });

  it('rejects use after close and a second open of one folder in the same process', async () => {
    const dir = temps.make();
    const a = new FileStore({ dir });
    await a.open();
    const err = await expectCode(new FileStore({ dir }).open(), 'PB_ERR_STORAGE_LOCKED');
    expect(err.message).to.include(dir);
    await a.close();
    await expectCode(a.services.nodeStore.get(MACS[0]), 'PB_ERR_STORAGE_CLOSED');
    const b = new FileStore({ dir });
    await b.open();
    await b.close();
  });
});
