import { expect } from 'chai';
import { intToIp, ipToInt, type AllocateRequest } from '@pureboot/core';
import type { PostgresStores } from '../src/index';
import { dropSchema, openStores, randomSchema, requirePostgres, sql } from './support/pg';

const ip = ipToInt;
const T0 = Date.UTC(2026, 0, 1);

function req(client: string, extra: Partial<AllocateRequest> = {}): AllocateRequest {
  return {
    subnetId: 'lab',
    clientId: `01${client}`,
    mac: client.match(/../g)!.join(':'),
    ranges: [{ start: ip('198.18.10.10'), end: ip('198.18.10.19') }],
    state: 'offered',
    expiresAt: T0 + 60_000,
    now: T0,
    ...extra,
  };
}

describe('storage-postgres: lease store on a real PostgreSQL', () => {
  const schema = randomSchema();
  let st: PostgresStores;
  before(async function () {
    await requirePostgres(this);
    st = openStores(schema);
    await st.start();
  });
  after(async () => {
    await st?.close();
    await dropSchema(schema);
  });
  beforeEach(async () => {
    await sql(`TRUNCATE "${schema}".leases, "${schema}".pool_fill`);
  });

  it('allocates the lowest free address, and the same lease again for the same client (reused)', async () => {
    const a = await st.leaseStore.allocate(req('aa0000000001'));
    expect(a).to.deep.include({ ok: true, reused: false });
    if (!a.ok) throw new Error('no lease');
    expect(intToIp(a.lease.address)).to.equal('198.18.10.10');
    expect(a.lease).to.deep.include({ subnetId: 'lab', clientId: '01aa0000000001', mac: 'aa:00:00:00:00:01', state: 'offered', expiresAt: T0 + 60_000, updatedAt: T0 });
    const again = await st.leaseStore.allocate(req('aa0000000001', { now: T0 + 1000, expiresAt: T0 + 61_000 }));
    expect(again.ok && again.reused && again.lease.address).to.equal(a.lease.address);
    const b = await st.leaseStore.allocate(req('aa0000000002'));
    expect(b.ok && intToIp(b.lease.address)).to.equal('198.18.10.11');
  });

  it('honours preferred and preferredOnly, and skips excluded addresses', async () => {
    const p = await st.leaseStore.allocate(req('aa0000000001', { preferred: ip('198.18.10.15') }));
    expect(p.ok && intToIp(p.lease.address)).to.equal('198.18.10.15');
    const taken = await st.leaseStore.allocate(req('aa0000000002', { preferred: ip('198.18.10.15'), preferredOnly: true }));
    expect(taken).to.deep.equal({ ok: false, reason: 'preferred-unavailable' });
    const fallback = await st.leaseStore.allocate(req('aa0000000002', { preferred: ip('198.18.10.15'), exclude: [{ start: ip('198.18.10.10'), end: ip('198.18.10.12') }] }));
    expect(fallback.ok && intToIp(fallback.lease.address)).to.equal('198.18.10.13');
  });

  it('reports exhaustion as a result, and reuses released, then expired addresses', async () => {
    const got: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await st.leaseStore.allocate(req(`bb00000000${String(i).padStart(2, '0')}`));
      if (!r.ok) throw new Error(`allocation ${i} failed`);
      got.push(r.lease.address);
    }
    expect(new Set(got).size).to.equal(10);
    expect(await st.leaseStore.allocate(req('cc0000000001'))).to.deep.equal({ ok: false, reason: 'exhausted' });
    const rel = await st.leaseStore.release(got[3], '01bb0000000003', T0 + 10);
    expect(rel?.state).to.equal('released');
    const r1 = await st.leaseStore.allocate(req('cc0000000001', { now: T0 + 20 }));
    expect(r1.ok && r1.lease.address).to.equal(got[3]);
    // all offers end at T0+60s: after that the pool is reusable without a reclaim pass
    const r2 = await st.leaseStore.allocate(req('cc0000000002', { now: T0 + 61_000, expiresAt: T0 + 120_000 }));
    expect(r2.ok).to.equal(true);
  });

  it('commit binds a free address, renews the holder, refuses another client (taken) and a quarantined one (declined)', async () => {
    const a = ip('198.18.10.12');
    const c1 = await st.leaseStore.commit({ subnetId: 'lab', address: a, clientId: '01aa', mac: 'aa:00:00:00:00:01', hostname: 'n1', expiresAt: T0 + 3600_000, now: T0 });
    expect(c1.ok && c1.lease).to.deep.include({ state: 'bound', hostname: 'n1', expiresAt: T0 + 3600_000 });
    const renew = await st.leaseStore.commit({ subnetId: 'lab', address: a, clientId: '01aa', mac: 'aa:00:00:00:00:01', expiresAt: T0 + 7200_000, now: T0 + 1000 });
    expect(renew.ok && renew.lease).to.deep.include({ state: 'bound', hostname: 'n1', expiresAt: T0 + 7200_000 });
    expect(await st.leaseStore.commit({ subnetId: 'lab', address: a, clientId: '01bb', mac: 'bb:00:00:00:00:01', expiresAt: T0 + 3600_000, now: T0 + 2000 })).to.deep.equal({ ok: false, reason: 'taken' });
    const d = await st.leaseStore.decline(a, '01aa', 'lab', T0 + 600_000, T0 + 3000);
    expect(d).to.deep.include({ state: 'declined', expiresAt: T0 + 600_000 });
    expect(await st.leaseStore.commit({ subnetId: 'lab', address: a, clientId: '01bb', mac: 'bb:00:00:00:00:01', expiresAt: T0 + 3600_000, now: T0 + 4000 })).to.deep.equal({ ok: false, reason: 'declined' });
    // the quarantined address is not handed out from the pool either
    const pool = await st.leaseStore.allocate(req('dd0000000001', { ranges: [{ start: a, end: a }], now: T0 + 5000 }));
    expect(pool).to.deep.equal({ ok: false, reason: 'exhausted' });
    // quarantine over: free again
    const after = await st.leaseStore.commit({ subnetId: 'lab', address: a, clientId: '01bb', mac: 'bb:00:00:00:00:01', expiresAt: T0 + 9_000_000, now: T0 + 600_001 });
    expect(after.ok).to.equal(true);
  });

  it('decline without a client quarantines an address nobody holds; decline of another client\'s lease is refused', async () => {
    const a = ip('198.18.10.17');
    const d = await st.leaseStore.decline(a, undefined, 'lab', T0 + 1000, T0);
    expect(d).to.deep.include({ address: a, state: 'declined', subnetId: 'lab' });
    const c = await st.leaseStore.commit({ subnetId: 'lab', address: ip('198.18.10.18'), clientId: '01aa', mac: 'aa:00:00:00:00:01', expiresAt: T0 + 1000, now: T0 });
    expect(c.ok).to.equal(true);
    expect(await st.leaseStore.decline(ip('198.18.10.18'), '01bb', 'lab', T0 + 1000, T0)).to.equal(undefined);
    expect(await st.leaseStore.release(ip('198.18.10.18'), '01bb', T0)).to.equal(undefined);
  });

  it('finds by client id, MAC and address; reclaimExpired moves due leases to expired in batches', async () => {
    for (let i = 0; i < 5; i++) {
      await st.leaseStore.commit({ subnetId: 'lab', address: ip('198.18.10.10') + i, clientId: `01c${i}`, mac: `cc:00:00:00:00:0${i}`, expiresAt: T0 + 1000 * (i + 1), now: T0 });
    }
    expect((await st.leaseStore.findByClientId('lab', '01c2'))?.address).to.equal(ip('198.18.10.12'));
    expect(await st.leaseStore.findByClientId('other', '01c2')).to.equal(undefined);
    expect((await st.leaseStore.findByMac('CC:00:00:00:00:03')).map((l) => l.address)).to.deep.equal([ip('198.18.10.13')]);
    expect((await st.leaseStore.findByAddress(ip('198.18.10.14')))?.clientId).to.equal('01c4');
    expect(await st.leaseStore.findByAddress(ip('198.18.10.99'))).to.equal(undefined);
    const first = await st.leaseStore.reclaimExpired(T0 + 3500, 2);
    expect(first.map((l) => [l.address, l.state])).to.deep.equal([
      [ip('198.18.10.10'), 'expired'],
      [ip('198.18.10.11'), 'expired'],
    ]);
    const second = await st.leaseStore.reclaimExpired(T0 + 3500, 10);
    expect(second.map((l) => l.address)).to.deep.equal([ip('198.18.10.12')]);
    expect(await st.leaseStore.reclaimExpired(T0 + 3500, 10)).to.deep.equal([]);
  });

  it('lists with keyset paging, filtered by subnet and state, never showing unused pool rows', async () => {
    await st.leaseStore.allocate(req('ee0000000001'));
    for (let i = 0; i < 25; i++) {
      await st.leaseStore.commit({ subnetId: i % 2 ? 'odd' : 'even', address: ip('198.18.20.0') + i, clientId: `01e${i}`, mac: 'ee:00:00:00:00:00', expiresAt: T0 + 1000, now: T0 });
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await st.leaseStore.list({ subnetId: 'even', limit: 5, cursor });
      seen.push(...page.items.map((l) => l.address));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).to.deep.equal(Array.from({ length: 13 }, (_, i) => ip('198.18.20.0') + i * 2));
    expect(pages).to.equal(3);
    expect((await st.leaseStore.list({ state: 'offered' })).items.map((l) => l.clientId)).to.deep.equal(['01ee0000000001']);
    expect((await st.leaseStore.list({ limit: 1000 })).items).to.have.length(26);
    let err: unknown;
    try {
      await st.leaseStore.list({ cursor: 'garbage' });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).to.equal('PB_ERR_STORAGE_BAD_CURSOR');
  });

  it('a /16 pool: fills lazily (rows stay far below the pool size) and concurrent allocations never collide', async () => {
    const ranges = [{ start: ip('198.19.0.0'), end: ip('198.19.255.255') }];
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => st.leaseStore.allocate(req(`f${String(i).padStart(11, '0')}`, { subnetId: 'big', ranges }))));
    const addrs = results.map((r) => (r.ok ? r.lease.address : -1));
    expect(addrs).to.not.include(-1);
    expect(new Set(addrs).size).to.equal(300);
    const [{ n }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".leases WHERE address BETWEEN $1 AND $2`, [ranges[0].start, ranges[0].end]);
    expect(Number(n)).to.be.below(300 + 4 * 1024 + 1);
  });

  it('a client moved to another address gives up its old lease (one lease per client and subnet)', async () => {
    const a = await st.leaseStore.allocate(req('ab0000000001'));
    if (!a.ok) throw new Error('no lease');
    const b = await st.leaseStore.allocate(req('ab0000000001', { preferred: ip('198.18.10.19'), preferredOnly: true, now: T0 + 1 }));
    expect(b.ok && intToIp(b.lease.address)).to.equal('198.18.10.19');
    expect((await st.leaseStore.findByAddress(a.lease.address))?.state).to.equal('released');
    expect((await st.leaseStore.findByClientId('lab', '01ab0000000001'))?.address).to.equal(ip('198.18.10.19'));
  });

  it('a returning client gets its previous address back when it is still free', async () => {
    const a = await st.leaseStore.allocate(req('ac0000000001'));
    await st.leaseStore.allocate(req('ac0000000002'));
    if (!a.ok) throw new Error('no lease');
    await st.leaseStore.release(a.lease.address, '01ac0000000001', T0 + 1);
    const back = await st.leaseStore.allocate(req('ac0000000001', { now: T0 + 2 }));
    expect(back.ok && back.lease.address).to.equal(a.lease.address);
  });
});
