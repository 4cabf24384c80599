import assert from 'node:assert/strict';
import { ipToInt, type AllocateRequest, type AllocateResult, type Lease, type LeaseStore } from '../contracts/lease-store';
import type { BootEventLog, NodeRecord, NodeStore } from '../contracts/node-store';

/**
 * The shared contract suite of the storage services (`leaseStore`, `nodeStore`, `bootEvents`).
 * Every backend (storage-memory, storage-file, storage-postgres) runs it unchanged; a new backend
 * proves itself by passing it. Call it at the top level of a mocha test file:
 *
 *   storeConformance('storage-file', async (opts) => {
 *     const store = await openMyStore({ ...opts });
 *     return { ...store.services, close: () => store.close(), reopen: … };
 *   });
 *
 * Each test opens fresh, empty storage through the factory and closes every handle it opened in an
 * afterEach. Times are explicit epoch-ms values (no clock); nothing here sleeps.
 */

/** Backend settings the suite needs to control. */
export interface StoreFactoryOptions {
  /** Lifecycle transitions kept per machine. */
  historyRetention: number;
  /** Boot events kept per machine. */
  bootEventRetention: number;
}

export interface StoreHandle {
  leaseStore: LeaseStore;
  nodeStore: NodeStore;
  bootEvents: BootEventLog;
  /** Release the storage (connections, files, locks). Called once per handle by the suite. */
  close(): Promise<void>;
  /** Durable backends: close this handle and open the same storage again (the suite will not close this handle afterwards). */
  reopen?(): Promise<StoreHandle>;
  /** Shared backends: another independent handle on the same storage (like a second server). */
  peer?(): Promise<StoreHandle>;
}

/** Opens fresh, empty storage. */
export type StoreFactory = (opts: StoreFactoryOptions) => Promise<StoreHandle>;

export interface StoreConformanceSettings {
  /** Per-test timeout (default 20 s). */
  timeoutMs?: number;
}

/** mocha's globals, typed locally so core does not depend on @types/mocha. */
interface MochaFns {
  describe(title: string, fn: (this: { timeout(ms: number): void }) => void): void;
  it(title: string, fn: (this: { skip(): void }) => Promise<void>): void;
  afterEach(fn: () => Promise<void>): void;
}

const SUBNET = 'net-a';
const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;
const ip = (s: string) => ipToInt(s);

function mac(i: number): string {
  const h = (i & 0xffff).toString(16).padStart(4, '0');
  return `52:54:00:aa:${h.slice(0, 2)}:${h.slice(2)}`;
}

function clientId(i: number): string {
  return `01${mac(i).replace(/:/g, '')}`;
}

function pool(first: string, last: string) {
  return [{ start: ip(first), end: ip(last) }];
}

function req(i: number, over: Partial<AllocateRequest> = {}): AllocateRequest {
  return { subnetId: SUBNET, clientId: clientId(i), mac: mac(i), ranges: pool('198.18.10.10', '198.18.10.200'), state: 'offered', expiresAt: T0 + 60_000, now: T0, ...over };
}

function ok(r: AllocateResult): Lease {
  if (!r.ok) assert.fail(`allocation failed: ${r.reason}`);
  return r.lease;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`);
    return;
  }
  assert.fail(`expected a rejection with ${code}`);
}

export function storeConformance(name: string, factory: StoreFactory, settings: StoreConformanceSettings = {}): void {
  const { describe, it, afterEach } = globalThis as unknown as MochaFns;
  const opts: StoreFactoryOptions = { historyRetention: 5, bootEventRetention: 4 };

  describe(`storage contract: ${name}`, function () {
    this.timeout(settings.timeoutMs ?? 20_000);
    let open: StoreHandle[] = [];
    const fresh = async () => {
      const h = await factory(opts);
      open.push(h);
      return h;
    };
    const reopen = async (h: StoreHandle) => {
      assert.ok(h.reopen);
      open = open.filter((x) => x !== h);
      const r = await h.reopen();
      open.push(r);
      return r;
    };
    const peer = async (h: StoreHandle) => {
      assert.ok(h.peer);
      const p = await h.peer();
      open.push(p);
      return p;
    };
    afterEach(async () => {
      const hs = open;
      open = [];
      for (const h of hs.reverse()) await h.close();
    });

    describe('leaseStore.allocate', () => {
      it('offers an address from the range and finds it by client id, MAC and address', async () => {
        const { leaseStore: s } = await fresh();
        const l = ok(await s.allocate(req(1, { hostname: 'web-01' })));
        assert.ok(l.address >= ip('198.18.10.10') && l.address <= ip('198.18.10.200'));
        assert.equal(l.subnetId, SUBNET);
        assert.equal(l.clientId, clientId(1));
        assert.equal(l.mac, mac(1));
        assert.equal(l.hostname, 'web-01');
        assert.equal(l.state, 'offered');
        assert.equal(l.expiresAt, T0 + 60_000);
        assert.equal(l.updatedAt, T0);
        assert.deepEqual(await s.findByClientId(SUBNET, clientId(1)), l);
        assert.deepEqual(await s.findByAddress(l.address), l);
        assert.deepEqual(await s.findByMac(mac(1)), [l]);
        assert.equal(await s.findByClientId(SUBNET, clientId(2)), undefined);
        assert.equal(await s.findByClientId('net-b', clientId(1)), undefined);
        assert.equal(await s.findByAddress(ip('198.18.10.250')), undefined);
        assert.deepEqual(await s.findByMac(mac(2)), []);
      });

      it('returns the same lease to the same client (reused) and extends an offer', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        const r = await s.allocate(req(1, { now: T0 + 1000, expiresAt: T0 + 90_000 }));
        assert.ok(r.ok && r.reused);
        assert.equal(ok(r).address, a.address);
        assert.equal(ok(r).expiresAt, T0 + 90_000);
        assert.equal((await s.findByAddress(a.address))?.expiresAt, T0 + 90_000);
      });

      it('a DISCOVER from a bound client does not downgrade its binding', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        assert.ok((await s.commit({ subnetId: SUBNET, address: a.address, clientId: clientId(1), mac: mac(1), expiresAt: T0 + HOUR, now: T0 })).ok);
        const r = await s.allocate(req(1, { now: T0 + 5000, expiresAt: T0 + 65_000 }));
        assert.ok(r.ok && r.reused);
        assert.equal(ok(r).address, a.address);
        assert.equal(ok(r).state, 'bound');
        assert.equal(ok(r).expiresAt, T0 + HOUR);
      });

      it('state "bound" binds directly (rapid commit)', async () => {
        const { leaseStore: s } = await fresh();
        const l = ok(await s.allocate(req(1, { state: 'bound', expiresAt: T0 + HOUR })));
        assert.equal(l.state, 'bound');
        assert.equal((await s.findByAddress(l.address))?.state, 'bound');
      });

      it('gives distinct clients distinct addresses and reports exhaustion as a result', async () => {
        const { leaseStore: s } = await fresh();
        const ranges = pool('198.18.10.1', '198.18.10.4');
        const got = new Set<number>();
        for (let i = 0; i < 4; i++) got.add(ok(await s.allocate(req(i, { ranges }))).address);
        assert.equal(got.size, 4);
        assert.deepEqual([...got].sort((a, b) => a - b), [1, 2, 3, 4].map((n) => ip(`198.18.10.${n}`)));
        assert.deepEqual(await s.allocate(req(9, { ranges })), { ok: false, reason: 'exhausted' });
      });

      it('skips excluded addresses and uses ranges in preference order', async () => {
        const { leaseStore: s } = await fresh();
        const ranges = [
          { start: ip('198.18.10.1'), end: ip('198.18.10.3') },
          { start: ip('198.18.11.1'), end: ip('198.18.11.2') },
        ];
        const exclude = [{ start: ip('198.18.10.2'), end: ip('198.18.10.2') }, { start: ip('198.18.11.1'), end: ip('198.18.11.1') }];
        const a = ok(await s.allocate(req(1, { ranges, exclude })));
        const b = ok(await s.allocate(req(2, { ranges, exclude })));
        assert.deepEqual([a.address, b.address].sort((x, y) => x - y), [ip('198.18.10.1'), ip('198.18.10.3')]);
        assert.equal(ok(await s.allocate(req(3, { ranges, exclude }))).address, ip('198.18.11.2'));
        assert.deepEqual(await s.allocate(req(4, { ranges, exclude })), { ok: false, reason: 'exhausted' });
      });

      it('honours a free preferred address, falls back when it is taken, and preferredOnly reports it', async () => {
        const { leaseStore: s } = await fresh();
        const want = ip('198.18.10.77');
        assert.equal(ok(await s.allocate(req(1, { preferred: want }))).address, want);
        const fallback = ok(await s.allocate(req(2, { preferred: want })));
        assert.notEqual(fallback.address, want);
        assert.deepEqual(await s.allocate(req(3, { preferred: want, preferredOnly: true })), { ok: false, reason: 'preferred-unavailable' });
        // preferred outside the dynamic ranges: ignored unless preferredOnly (a reservation)
        const outside = ip('198.18.12.5');
        assert.notEqual(ok(await s.allocate(req(4, { preferred: outside }))).address, outside);
        assert.equal(ok(await s.allocate(req(5, { preferred: outside, preferredOnly: true }))).address, outside);
        // an excluded preferred address is not handed out dynamically
        const excl = ip('198.18.10.150');
        const r = ok(await s.allocate(req(6, { preferred: excl, exclude: [{ start: excl, end: excl }] })));
        assert.notEqual(r.address, excl);
      });

      it('a client whose lease expired gets its old address back when it is still free', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        for (let i = 2; i < 6; i++) ok(await s.allocate(req(i)));
        const later = T0 + 10 * 60_000;
        const b = await s.allocate(req(1, { now: later, expiresAt: later + 60_000 }));
        assert.equal(ok(b).address, a.address);
        assert.ok(b.ok && b.reused);
      });

      it('an expired lease of another client can be handed out again', async () => {
        const { leaseStore: s } = await fresh();
        const ranges = pool('198.18.10.1', '198.18.10.1');
        const a = ok(await s.allocate(req(1, { ranges })));
        assert.deepEqual(await s.allocate(req(2, { ranges })), { ok: false, reason: 'exhausted' });
        const later = T0 + 61_000;
        const b = ok(await s.allocate(req(2, { ranges, now: later, expiresAt: later + 60_000 })));
        assert.equal(b.address, a.address);
        assert.equal(b.clientId, clientId(2));
        assert.equal((await s.findByAddress(a.address))?.clientId, clientId(2));
        assert.equal(await s.findByClientId(SUBNET, clientId(1)), undefined);
        assert.deepEqual(await s.findByMac(mac(1)), []);
      });

      it('never double-books under many concurrent allocations', async () => {
        const { leaseStore: s } = await fresh();
        const ranges = pool('198.18.20.1', '198.18.20.150');
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => s.allocate(req(i, { ranges }))));
        const leases = results.filter((r) => r.ok).map(ok);
        assert.equal(leases.length, 150);
        assert.equal(new Set(leases.map((l) => l.address)).size, 150);
        assert.equal(new Set(leases.map((l) => l.clientId)).size, 150);
        assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'exhausted'));
        const page = await s.list({ subnetId: SUBNET, limit: 1000 });
        assert.equal(page.items.length, 150);
      });

      it('concurrent allocations for one client hold one address', async () => {
        const { leaseStore: s } = await fresh();
        const results = await Promise.all(Array.from({ length: 20 }, () => s.allocate(req(7))));
        assert.equal(new Set(results.map((r) => ok(r).address)).size, 1);
        assert.equal((await s.list({})).items.length, 1);
      });

      it('two handles on shared storage never hold the same address (backends with peer())', async function () {
        const h = await fresh();
        if (!h.peer) return this.skip();
        const p = await peer(h);
        const ranges = pool('198.18.21.1', '198.18.21.60');
        const all = await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 ? h : p).leaseStore.allocate(req(i, { ranges }))));
        const got = all.filter((r) => r.ok).map(ok);
        assert.equal(got.length, 60);
        assert.equal(new Set(got.map((l) => l.address)).size, 60);
      });
    });

    describe('leaseStore.commit / release / decline', () => {
      const commit = (s: LeaseStore, i: number, address: number, over: Partial<Parameters<LeaseStore['commit']>[0]> = {}) =>
        s.commit({ subnetId: SUBNET, address, clientId: clientId(i), mac: mac(i), expiresAt: T0 + HOUR, now: T0 + 1000, ...over });

      it('binds an offered address for its client and renews it', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        const c = await commit(s, 1, a.address, { hostname: 'h1' });
        assert.ok(c.ok);
        assert.equal(c.lease.state, 'bound');
        assert.equal(c.lease.expiresAt, T0 + HOUR);
        assert.equal(c.lease.hostname, 'h1');
        const r = await commit(s, 1, a.address, { now: T0 + 30 * 60_000, expiresAt: T0 + 2 * HOUR });
        assert.ok(r.ok);
        assert.equal(r.lease.expiresAt, T0 + 2 * HOUR);
        assert.equal(r.lease.updatedAt, T0 + 30 * 60_000);
        assert.deepEqual(await s.findByClientId(SUBNET, clientId(1)), r.lease);
      });

      it('binds a free address that was never offered (INIT-REBOOT)', async () => {
        const { leaseStore: s } = await fresh();
        const c = await commit(s, 1, ip('198.18.10.55'));
        assert.ok(c.ok);
        assert.equal((await s.findByAddress(ip('198.18.10.55')))?.clientId, clientId(1));
      });

      it('refuses an address another client holds, until that lease has expired', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        assert.deepEqual(await commit(s, 2, a.address), { ok: false, reason: 'taken' });
        assert.ok((await commit(s, 1, a.address)).ok);
        assert.deepEqual(await commit(s, 2, a.address, { now: T0 + HOUR - 1 }), { ok: false, reason: 'taken' });
        const c = await commit(s, 2, a.address, { now: T0 + HOUR, expiresAt: T0 + 2 * HOUR });
        assert.ok(c.ok);
        assert.equal(c.lease.clientId, clientId(2));
        assert.equal(await s.findByClientId(SUBNET, clientId(1)), undefined);
      });

      it('binding another address releases the client\'s previous lease in the subnet', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        const other = a.address === ip('198.18.10.99') ? ip('198.18.10.98') : ip('198.18.10.99');
        assert.ok((await commit(s, 1, other)).ok);
        assert.equal((await s.findByClientId(SUBNET, clientId(1)))?.address, other);
        const old = await s.findByAddress(a.address);
        assert.ok(old && old.state !== 'offered' && old.state !== 'bound', `old lease state ${old?.state}`);
        assert.equal(ok(await s.allocate(req(2, { preferred: a.address, preferredOnly: true, now: T0 + 2000 }))).address, a.address);
      });

      it('release: only the holder can release; the address becomes free', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1)));
        assert.ok((await commit(s, 1, a.address)).ok);
        assert.equal(await s.release(a.address, clientId(2), T0 + 2000), undefined);
        assert.equal(await s.release(ip('198.18.10.254'), clientId(1), T0 + 2000), undefined);
        const r = await s.release(a.address, clientId(1), T0 + 2000);
        assert.equal(r?.state, 'released');
        assert.equal(r?.updatedAt, T0 + 2000);
        assert.equal((await s.findByAddress(a.address))?.state, 'released');
        assert.equal(await s.release(a.address, clientId(1), T0 + 3000), undefined, 'a released lease cannot be released again');
        const b = ok(await s.allocate(req(2, { preferred: a.address, now: T0 + 3000 })));
        assert.equal(b.address, a.address);
      });

      it('decline quarantines the address until the given time', async () => {
        const { leaseStore: s } = await fresh();
        const ranges = pool('198.18.10.1', '198.18.10.2');
        const a = ok(await s.allocate(req(1, { ranges })));
        assert.equal(await s.decline(a.address, clientId(2), SUBNET, T0 + HOUR, T0 + 1000), undefined, 'another client cannot decline it');
        assert.equal(await s.decline(a.address, clientId(1), 'net-b', T0 + HOUR, T0 + 1000), undefined, 'wrong subnet');
        const d = await s.decline(a.address, clientId(1), SUBNET, T0 + HOUR, T0 + 1000);
        assert.equal(d?.state, 'declined');
        assert.equal(d?.expiresAt, T0 + HOUR);
        // the declining client gets the other address; nobody gets the quarantined one
        const b = ok(await s.allocate(req(1, { ranges, now: T0 + 2000, expiresAt: T0 + 2 * HOUR })));
        assert.notEqual(b.address, a.address);
        assert.deepEqual(await s.allocate(req(3, { ranges, now: T0 + 2000 })), { ok: false, reason: 'exhausted' });
        assert.deepEqual(await s.allocate(req(3, { ranges, preferred: a.address, preferredOnly: true, now: T0 + 2000 })), { ok: false, reason: 'preferred-unavailable' });
        assert.deepEqual(await commit(s, 3, a.address, { now: T0 + 2000 }), { ok: false, reason: 'declined' });
        // quarantine over: free again
        assert.equal(ok(await s.allocate(req(3, { ranges, now: T0 + HOUR, expiresAt: T0 + HOUR + 60_000 }))).address, a.address);
      });

      it('decline without a client id quarantines any address (conflict detected)', async () => {
        const { leaseStore: s } = await fresh();
        const addr = ip('198.18.10.10');
        const d = await s.decline(addr, undefined, SUBNET, T0 + HOUR, T0);
        assert.equal(d?.state, 'declined');
        assert.equal(d?.address, addr);
        assert.equal((await s.findByAddress(addr))?.state, 'declined');
        const l = ok(await s.allocate(req(1, { ranges: pool('198.18.10.10', '198.18.10.11') })));
        assert.equal(l.address, ip('198.18.10.11'));
      });
    });

    describe('leaseStore.reclaimExpired and list', () => {
      it('reclaims due offered, bound and declined leases, oldest first, up to the limit', async () => {
        const { leaseStore: s } = await fresh();
        const a = ok(await s.allocate(req(1, { expiresAt: T0 + 10_000 })));
        const b = ok(await s.allocate(req(2, { expiresAt: T0 + 20_000, state: 'bound' })));
        const c = ok(await s.allocate(req(3, { expiresAt: T0 + 30_000 })));
        const d = ok(await s.allocate(req(4, { expiresAt: T0 + HOUR })));
        const e = ok(await s.allocate(req(5, { expiresAt: T0 + 5_000 })));
        await s.release(e.address, clientId(5), T0 + 1000);
        await s.decline(c.address, clientId(3), SUBNET, T0 + 25_000, T0 + 1000);
        const first = await s.reclaimExpired(T0 + 40_000, 2);
        assert.deepEqual(first.map((l) => l.address), [a.address, b.address]);
        assert.ok(first.every((l) => l.state === 'expired' && l.updatedAt === T0 + 40_000));
        const second = await s.reclaimExpired(T0 + 40_000, 100);
        assert.deepEqual(second.map((l) => l.address), [c.address]);
        assert.deepEqual(await s.reclaimExpired(T0 + 40_000, 100), []);
        assert.equal((await s.findByAddress(d.address))?.state, 'offered');
        assert.equal((await s.findByAddress(e.address))?.state, 'released');
        assert.equal((await s.findByAddress(a.address))?.state, 'expired');
        const again = ok(await s.allocate(req(1, { now: T0 + 41_000, expiresAt: T0 + 100_000 })));
        assert.equal(again.address, a.address);
      });

      it('pages through every lease once, in address order, with filters', async () => {
        const { leaseStore: s } = await fresh();
        for (let i = 0; i < 25; i++) ok(await s.allocate(req(i)));
        for (let i = 0; i < 5; i++) ok(await s.allocate({ ...req(100 + i), subnetId: 'net-b', ranges: pool('198.18.30.1', '198.18.30.50') }));
        const mine = ok(await s.allocate(req(200, { state: 'bound', expiresAt: T0 + HOUR })));
        const seen: Lease[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await s.list({ subnetId: SUBNET, limit: 7, cursor });
          assert.ok(page.items.length <= 7);
          seen.push(...page.items);
          cursor = page.nextCursor;
          pages++;
          assert.ok(pages < 20, 'paging does not end');
        } while (cursor);
        assert.equal(seen.length, 26);
        assert.equal(pages, 4);
        assert.ok(seen.every((l) => l.subnetId === SUBNET));
        const addrs = seen.map((l) => l.address);
        assert.deepEqual(addrs, [...addrs].sort((a, b) => a - b));
        assert.equal(new Set(addrs).size, 26);
        assert.equal((await s.list({ subnetId: 'net-b' })).items.length, 5);
        assert.deepEqual((await s.list({ state: 'bound' })).items.map((l) => l.address), [mine.address]);
        assert.equal((await s.list({})).items.length, 31);
        const exact = await s.list({ subnetId: 'net-b', limit: 5 });
        assert.equal(exact.items.length, 5);
        assert.equal(exact.nextCursor, undefined, 'no cursor when nothing follows');
        await expectCode(s.list({ cursor: 'not a cursor!' }), 'PB_ERR_STORAGE_BAD_CURSOR');
      });

      it('an empty store lists nothing', async () => {
        const { leaseStore: s } = await fresh();
        assert.deepEqual(await s.list({}), { items: [] });
        assert.deepEqual(await s.reclaimExpired(T0, 10), []);
      });
    });

    describe('nodeStore', () => {
      const m = (i: number) => mac(1000 + i);

      it('creates a machine at version 1 with its first transition; a second create reports the existing one', async () => {
        const { nodeStore: s } = await fresh();
        const r = await s.create({ mac: m(1), state: 'discovered', arch: 'x86_64-efi', labels: { rack: 'r1' }, attributes: { serial: 'abc' }, now: T0, reason: 'first boot' });
        assert.ok(r.ok);
        const n = r.node;
        assert.equal(n.mac, m(1));
        assert.equal(n.version, 1);
        assert.equal(n.state, 'discovered');
        assert.equal(n.arch, 'x86_64-efi');
        assert.deepEqual(n.labels, { rack: 'r1' });
        assert.deepEqual(n.attributes, { serial: 'abc' });
        assert.equal(n.firstSeen, T0);
        assert.equal(n.lastSeen, T0);
        assert.equal(n.stateSince, T0);
        assert.deepEqual(n.history.map((h) => [h.from, h.to, h.at, h.reason]), [[null, 'discovered', T0, 'first boot']]);
        assert.deepEqual(await s.get(m(1)), n);
        const again = await s.create({ mac: m(1), state: 'pending', now: T0 + 1 });
        assert.ok(!again.ok && again.reason === 'exists');
        assert.deepEqual(!again.ok && again.reason === 'exists' && again.current, n);
        assert.equal(await s.get(m(2)), undefined);
        const bare = await s.create({ mac: m(2), state: 'pending', now: T0 });
        assert.ok(bare.ok);
        assert.deepEqual(bare.node.labels, {});
        assert.deepEqual(bare.node.attributes, {});
        assert.equal(bare.node.arch, undefined);
        assert.equal(bare.node.profile, undefined);
      });

      it('updates with compare-and-set on the version', async () => {
        const { nodeStore: s } = await fresh();
        await s.create({ mac: m(1), state: 'discovered', now: T0 });
        const u = await s.update(m(1), 1, { lastSeen: T0 + 5 });
        assert.ok(u.ok);
        assert.equal(u.node.version, 2);
        assert.equal(u.node.lastSeen, T0 + 5);
        const stale = await s.update(m(1), 1, { lastSeen: T0 + 9 });
        assert.ok(!stale.ok && stale.reason === 'version-conflict');
        assert.equal(!stale.ok && stale.reason === 'version-conflict' && stale.current.version, 2);
        assert.equal((await s.get(m(1)))?.lastSeen, T0 + 5);
        assert.deepEqual(await s.update(m(9), 1, { lastSeen: 1 }), { ok: false, reason: 'not-found' });
      });

      it('records transitions in history with stateSince, bounded by retention', async () => {
        const { nodeStore: s } = await fresh();
        await s.create({ mac: m(1), state: 'discovered', now: T0 });
        const path: NodeRecord['state'][] = ['pending', 'installing', 'installed', 'active', 'failed', 'pending', 'installing'];
        let v = 1;
        let last: NodeRecord | undefined;
        for (const [i, to] of path.entries()) {
          const r = await s.update(m(1), v, { state: to, transition: { reason: `step ${i}`, actor: 'api', at: T0 + (i + 1) * 1000 } });
          assert.ok(r.ok, `transition to ${to}`);
          last = r.node;
          v = r.node.version;
        }
        assert.ok(last);
        assert.equal(last.state, 'installing');
        assert.equal(last.stateSince, T0 + path.length * 1000);
        assert.equal(last.version, path.length + 1);
        assert.equal(last.history.length, opts.historyRetention);
        const h = last.history[last.history.length - 1];
        assert.deepEqual([h.from, h.to, h.at, h.reason, h.actor], ['pending', 'installing', T0 + path.length * 1000, `step ${path.length - 1}`, 'api']);
        assert.deepEqual(last.history.map((x) => x.to), path.slice(-opts.historyRetention));
        // same state: no transition recorded
        const same = await s.update(m(1), v, { state: 'installing' });
        assert.ok(same.ok);
        assert.equal(same.node.history.length, opts.historyRetention);
        assert.equal(same.node.stateSince, last.stateSince);
        // a state change without a transition is a caller bug
        await expectCode(s.update(m(1), same.node.version, { state: 'active' }), 'PB_ERR_STORAGE_BAD_REQUEST');
        assert.equal((await s.get(m(1)))?.state, 'installing');
      });

      it('patches labels (replace), profile (null clears), attributes (merge, null removes), arch', async () => {
        const { nodeStore: s } = await fresh();
        await s.create({ mac: m(1), state: 'discovered', labels: { a: '1', b: '2' }, profile: 'ubuntu', attributes: { x: 1, y: { deep: true } }, now: T0 });
        const r = await s.update(m(1), 1, { labels: { c: '3' }, profile: null, attributes: { x: null, z: 'new' }, arch: 'bios' });
        assert.ok(r.ok);
        assert.deepEqual(r.node.labels, { c: '3' });
        assert.equal(r.node.profile, undefined);
        assert.deepEqual(r.node.attributes, { y: { deep: true }, z: 'new' });
        assert.equal(r.node.arch, 'bios');
        const p = await s.update(m(1), 2, { profile: 'debian' });
        assert.ok(p.ok);
        assert.equal(p.node.profile, 'debian');
        assert.deepEqual(p.node.labels, { c: '3' }, 'labels untouched when not given');
        assert.deepEqual(await s.get(m(1)), p.node);
      });

      it('returned records are copies: mutating them changes nothing stored', async () => {
        const { nodeStore: s } = await fresh();
        const r = await s.create({ mac: m(1), state: 'discovered', labels: { a: '1' }, now: T0 });
        assert.ok(r.ok);
        r.node.labels.a = 'changed';
        r.node.history.push({ from: 'discovered', to: 'active', at: 0, reason: 'x' });
        const got = await s.get(m(1));
        assert.ok(got);
        got.attributes.evil = true;
        assert.deepEqual((await s.get(m(1)))?.labels, { a: '1' });
        assert.equal((await s.get(m(1)))?.history.length, 1);
        assert.deepEqual((await s.get(m(1)))?.attributes, {});
      });

      it('peek (when provided) is the stored record, read-only: equal to get, deeply frozen, later updates not seen through it', async function () {
        const { nodeStore: s } = await fresh();
        if (!s.peek) return this.skip();
        assert.equal(await s.peek(m(1)), undefined);
        await s.create({ mac: m(1), state: 'discovered', labels: { a: '1' }, attributes: { k: [1, 2] }, now: T0 });
        await s.update(m(1), 1, { state: 'pending', transition: { reason: 'r', at: T0 + 1 } });
        const p = await s.peek(m(1));
        assert.deepEqual(p, await s.get(m(1)));
        // Frozen all the way down: a caller's mistake throws (strict code) or does nothing, never reaches the store.
        const frozen = (v: unknown): boolean => v === null || typeof v !== 'object' || (Object.isFrozen(v) && Object.values(v).every(frozen));
        assert.ok(frozen(p), 'the peeked record is deeply frozen');
        try {
          (p as NodeRecord).labels.a = 'changed';
        } catch {
          /* strict mode */
        }
        assert.deepEqual(await s.get(m(1)), p);
        const u = await s.update(m(1), 2, { labels: { b: '2' } });
        assert.ok(u.ok);
        assert.deepEqual((await s.peek(m(1)))?.labels, { b: '2' }, 'an update is seen by the next peek');
        assert.deepEqual(p?.labels, { a: '1' }, 'a record peeked before an update stays as it was');
      });

      it('of concurrent updates with the same expected version exactly one wins', async () => {
        const h = await fresh();
        await h.nodeStore.create({ mac: m(1), state: 'pending', now: T0 });
        const handles = h.peer ? [h, await peer(h)] : [h];
        const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => handles[i % handles.length].nodeStore.update(m(1), 1, { state: i % 2 ? 'installing' : 'failed', transition: { reason: `racer ${i}`, at: T0 + i } })));
        assert.equal(rs.filter((r) => r.ok).length, 1);
        assert.ok(rs.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'version-conflict'));
        const n = await h.nodeStore.get(m(1));
        assert.equal(n?.version, 2);
        assert.equal(n?.history.length, 2);
      });

      it('deletes machines', async () => {
        const { nodeStore: s } = await fresh();
        await s.create({ mac: m(1), state: 'pending', now: T0 });
        assert.equal(await s.delete(m(1)), true);
        assert.equal(await s.delete(m(1)), false);
        assert.equal(await s.get(m(1)), undefined);
        assert.ok((await s.create({ mac: m(1), state: 'pending', now: T0 + 1 })).ok);
      });

      it('lists with filters and cursors, in MAC order', async () => {
        const { nodeStore: s } = await fresh();
        for (let i = 0; i < 23; i++) {
          await s.create({ mac: m(i), state: i % 3 === 0 ? 'active' : 'pending', arch: i % 2 ? 'bios' : 'x86_64-efi', labels: { rack: `r${i % 4}`, role: i < 10 ? 'web' : 'db' }, profile: i % 5 === 0 ? 'ubuntu' : undefined, now: T0 });
        }
        const seen: NodeRecord[] = [];
        let cursor: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 20);
          const p = await s.list({ limit: 5, cursor });
          seen.push(...p.items);
          cursor = p.nextCursor;
          if (!cursor) break;
        }
        assert.equal(seen.length, 23);
        const macs = seen.map((n) => n.mac);
        assert.deepEqual(macs, [...macs].sort());
        assert.equal(new Set(macs).size, 23);
        const expect = (f: (i: number) => boolean) => Array.from({ length: 23 }, (_, i) => i).filter(f).map(m).sort();
        assert.deepEqual((await s.list({ state: 'active' })).items.map((n) => n.mac), expect((i) => i % 3 === 0));
        assert.deepEqual((await s.list({ arch: 'bios' })).items.map((n) => n.mac), expect((i) => i % 2 === 1));
        assert.deepEqual((await s.list({ profile: 'ubuntu' })).items.map((n) => n.mac), expect((i) => i % 5 === 0));
        assert.deepEqual((await s.list({ labels: { rack: 'r1', role: 'web' } })).items.map((n) => n.mac), expect((i) => i % 4 === 1 && i < 10));
        assert.deepEqual((await s.list({ state: 'pending', labels: { role: 'db' }, limit: 1000 })).items.map((n) => n.mac), expect((i) => i % 3 !== 0 && i >= 10));
        await expectCode(s.list({ cursor: '%%%' }), 'PB_ERR_STORAGE_BAD_CURSOR');
      });
    });

    describe('bootEvents', () => {
      const m = (i: number) => mac(2000 + i);
      const ev = (i: number, kind = 'dhcp.discover') => ({ mac: m(i), at: T0 + i, source: 'dhcp', kind, detail: { xid: i, nested: { ok: true } } });

      it('appends with increasing seq and lists one machine oldest first', async () => {
        const { bootEvents: s } = await fresh();
        const a = await s.append(ev(1));
        const b = await s.append(ev(2));
        const c = await s.append({ ...ev(1), kind: 'tftp.done', at: T0 + 50 });
        assert.ok(a.seq < b.seq && b.seq < c.seq);
        assert.deepEqual(a, { ...ev(1), seq: a.seq });
        assert.deepEqual(await s.list(m(1)), [a, c]);
        assert.deepEqual(await s.list(m(2)), [b]);
        assert.deepEqual(await s.list(m(3)), []);
        assert.deepEqual(await s.list(m(1), { afterSeq: a.seq }), [c]);
        assert.deepEqual(await s.list(m(1), { limit: 1 }), [a]);
      });

      it('stores a copy: changing the appended detail or the returned event afterwards changes nothing stored', async () => {
        const { bootEvents: s } = await fresh();
        const input = ev(1);
        const a = await s.append(input);
        input.detail.nested.ok = false;
        input.detail.xid = 99;
        a.kind = 'changed';
        (a.detail as { extra?: boolean }).extra = true;
        const [stored] = await s.list(m(1));
        assert.deepEqual(stored, { ...ev(1), seq: a.seq });
        (stored.detail.nested as { ok: boolean }).ok = false;
        assert.deepEqual((await s.list(m(1)))[0], { ...ev(1), seq: a.seq });
      });

      it('keeps the newest events per machine (retention) without reusing seq numbers', async () => {
        const { bootEvents: s } = await fresh();
        const mine = [];
        for (let i = 0; i < 7; i++) {
          mine.push(await s.append({ ...ev(1), kind: `k${i}` }));
          await s.append({ ...ev(2), kind: `other${i}` });
        }
        const kept = await s.list(m(1));
        assert.deepEqual(kept.map((e) => e.kind), mine.slice(-opts.bootEventRetention).map((e) => e.kind));
        assert.deepEqual(kept, mine.slice(-opts.bootEventRetention));
        assert.equal((await s.list(m(2))).length, opts.bootEventRetention);
        const next = await s.append(ev(3));
        assert.ok(next.seq > mine[mine.length - 1].seq);
      });

      it('appendMany (when provided): seqs in the given order, retention per machine, the same as list', async function () {
        const { bootEvents: s } = await fresh();
        if (!s.appendMany) return this.skip();
        const before = await s.append(ev(3));
        const batch = [ev(1), ev(2), ...Array.from({ length: opts.bootEventRetention + 2 }, (_, i) => ({ ...ev(1), kind: `k${i}` })), ev(2, 'tftp.done')];
        const out = await s.appendMany(batch);
        assert.deepEqual(out.map((e) => ({ ...e, seq: 0 })), batch.map((e) => ({ ...e, seq: 0 })));
        assert.ok(out.every((e, i) => e.seq > (i === 0 ? before.seq : out[i - 1].seq)), 'seqs grow in the given order');
        const mine = out.filter((e) => e.mac === m(1));
        assert.deepEqual(await s.list(m(1)), mine.slice(-opts.bootEventRetention));
        assert.deepEqual(await s.list(m(2)), out.filter((e) => e.mac === m(2)));
        assert.deepEqual(await s.appendMany([]), []);
      });

      it('appendMany (when provided): one bad event rejects the call and stores none of it', async function () {
        const { bootEvents: s } = await fresh();
        if (!s.appendMany) return this.skip();
        const first = await s.append(ev(1));
        const bad = { ...ev(2), detail: 'not an object' } as unknown as ReturnType<typeof ev>;
        await s.appendMany([ev(1, 'tftp.start'), ev(2), bad, ev(3)]).then(
          () => assert.fail('a batch with a bad event must reject'),
          (err: unknown) => assert.ok(err instanceof Error),
        );
        assert.deepEqual(await s.list(m(1)), [first]);
        assert.deepEqual(await s.list(m(2)), []);
        assert.deepEqual(await s.list(m(3)), []);
        const next = await s.append(ev(3));
        assert.ok(next.seq > first.seq);
      });
    });

    describe('durability (backends with reopen())', () => {
      const m = (i: number) => mac(2000 + i);
      const ev = (i: number) => ({ mac: m(i), at: T0 + i, source: 'dhcp', kind: 'dhcp.discover', detail: { xid: i } });
      it('leases, machines and boot events survive a reopen unchanged', async function () {
        const h = await fresh();
        if (!h.reopen) return this.skip();
        const leases: Lease[] = [];
        for (let i = 0; i < 10; i++) leases.push(ok(await h.leaseStore.allocate(req(i, { hostname: `host${i}` }))));
        const c = await h.leaseStore.commit({ subnetId: SUBNET, address: leases[0].address, clientId: clientId(0), mac: mac(0), expiresAt: T0 + HOUR, now: T0 + 1 });
        assert.ok(c.ok);
        await h.leaseStore.release(leases[1].address, clientId(1), T0 + 2);
        await h.leaseStore.decline(leases[2].address, clientId(2), SUBNET, T0 + HOUR, T0 + 3);
        await h.nodeStore.create({ mac: mac(1), state: 'discovered', labels: { a: 'b' }, now: T0 });
        await h.nodeStore.update(mac(1), 1, { state: 'pending', transition: { reason: 'r', at: T0 + 5 }, attributes: { k: [1, 2] } });
        await h.nodeStore.create({ mac: mac(2), state: 'active', now: T0 });
        await h.nodeStore.delete(mac(2));
        const e1 = await h.bootEvents.append(ev(1));
        const before = { leases: await h.leaseStore.list({ limit: 1000 }), node: await h.nodeStore.get(mac(1)), events: await h.bootEvents.list(m(1)) };
        const r = await reopen(h);
        assert.deepEqual(await r.leaseStore.list({ limit: 1000 }), before.leases);
        assert.deepEqual(await r.nodeStore.get(mac(1)), before.node);
        assert.equal(await r.nodeStore.get(mac(2)), undefined);
        assert.deepEqual(await r.bootEvents.list(m(1)), before.events);
        assert.deepEqual(await r.leaseStore.findByClientId(SUBNET, clientId(0)), c.lease);
        assert.deepEqual(await r.leaseStore.findByMac(mac(3)), [leases[3]]);
        const e2 = await r.bootEvents.append(ev(1));
        assert.ok(e2.seq > e1.seq, 'seq keeps increasing after a reopen');
        const again = ok(await r.leaseStore.allocate(req(50)));
        assert.ok(!leases.some((l, i) => i !== 1 && l.address === again.address), 'a reopened store does not hand out held or quarantined addresses');
      });
    });
  });
}
