import type { AddressRange, AllocateRequest, AllocateResult, CommitRequest, CommitResult, Lease, LeaseListQuery, LeasePage, LeaseState } from '@pureboot/core';
import { decodeLeaseCursor, encodeCursor, pageLimit, upperBound } from './cursor';
import { badRequest } from './errors';

/** One lease write: the new record, the one it replaced, and the client-index entries it touched. */
export interface LeaseChange {
  k: 'lease';
  after: Lease;
  before: Lease | undefined;
  /** Client-index keys touched, with their previous value (for undo). */
  idx: Array<[string, number | undefined]>;
}

const LEASE_STATES: readonly LeaseState[] = ['offered', 'bound', 'released', 'declined', 'expired'];

function clientKey(subnetId: string, clientId: string): string {
  return `${subnetId}\u0000${clientId}`;
}

/** Offered or bound and not yet expired: somebody holds the address. */
export function isActive(l: Lease, now: number): boolean {
  return (l.state === 'offered' || l.state === 'bound') && l.expiresAt > now;
}

/** Declined and still in quarantine. */
export function isQuarantined(l: Lease, now: number): boolean {
  return l.state === 'declined' && l.expiresAt > now;
}

function inRanges(a: number, ranges: AddressRange[] | undefined): boolean {
  if (!ranges) return false;
  for (const r of ranges) if (a >= r.start && a <= r.end) return true;
  return false;
}

function isAddress(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function checkTime(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${name} must be an epoch-ms number, got ${String(v)}`);
}

function checkId(name: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw badRequest(`${name} must be a non-empty string`);
}

function copy(l: Lease): Lease {
  return { ...l };
}

function makeLease(f: { address: number; subnetId: string; clientId: string; mac: string; hostname?: string; state: LeaseState; expiresAt: number; updatedAt: number }): Lease {
  const l: Lease = { address: f.address, subnetId: f.subnetId, clientId: f.clientId, mac: f.mac, state: f.state, expiresAt: f.expiresAt, updatedAt: f.updatedAt };
  if (f.hostname !== undefined) l.hostname = f.hostname;
  return l;
}

/**
 * The lease table of the in-process engine: records keyed by address, with indexes by client and MAC.
 * Every operation is synchronous, so it is atomic inside one process; every write goes through
 * `put`, which reports a LeaseChange to the sink (the file store journals those).
 */
export class LeaseTable {
  private byAddress = new Map<number, Lease>();
  private byClient = new Map<string, number>();
  private byMac = new Map<string, Set<number>>();
  private sorted: number[] | null = null;
  /** Next-scan position per (subnet, range), so allocation does not rescan a full pool prefix. */
  private hints = new Map<string, number>();

  constructor(private readonly sink: (c: LeaseChange) => void) {}

  get size(): number {
    return this.byAddress.size;
  }

  all(): IterableIterator<Lease> {
    return this.byAddress.values();
  }

  /** Write a record (the only mutation path; also used to replay journals). */
  put(after: Lease): void {
    const before = this.byAddress.get(after.address);
    const idx: Array<[string, number | undefined]> = [];
    const ak = after.clientId ? clientKey(after.subnetId, after.clientId) : undefined;
    if (before) {
      const bk = before.clientId ? clientKey(before.subnetId, before.clientId) : undefined;
      if (bk !== undefined && bk !== ak && this.byClient.get(bk) === after.address) {
        idx.push([bk, after.address]);
        this.byClient.delete(bk);
      }
      this.unindexMac(before);
    } else {
      this.sorted = null;
    }
    if (ak !== undefined) {
      idx.push([ak, this.byClient.get(ak)]);
      this.byClient.set(ak, after.address);
    }
    this.byAddress.set(after.address, after);
    this.indexMac(after);
    this.sink({ k: 'lease', after, before, idx });
  }

  undo(c: LeaseChange): void {
    const cur = this.byAddress.get(c.after.address);
    if (cur) this.unindexMac(cur);
    if (c.before) {
      this.byAddress.set(c.before.address, c.before);
      this.indexMac(c.before);
    } else {
      this.byAddress.delete(c.after.address);
      this.sorted = null;
    }
    for (let i = c.idx.length - 1; i >= 0; i--) {
      const [key, prev] = c.idx[i];
      if (prev === undefined) this.byClient.delete(key);
      else this.byClient.set(key, prev);
    }
  }

  private indexMac(l: Lease): void {
    if (!l.mac) return;
    let s = this.byMac.get(l.mac);
    if (!s) this.byMac.set(l.mac, (s = new Set()));
    s.add(l.address);
  }

  private unindexMac(l: Lease): void {
    const s = this.byMac.get(l.mac);
    if (!s) return;
    s.delete(l.address);
    if (s.size === 0) this.byMac.delete(l.mac);
  }

  private current(subnetId: string, clientId: string): Lease | undefined {
    const a = this.byClient.get(clientKey(subnetId, clientId));
    return a === undefined ? undefined : this.byAddress.get(a);
  }

  /** The address may go to this client: unused, or not held by anyone else and not quarantined. */
  private freeFor(a: number, subnetId: string, clientId: string, now: number): boolean {
    const l = this.byAddress.get(a);
    if (!l) return true;
    if (isQuarantined(l, now)) return false;
    if (!isActive(l, now)) return true;
    return l.subnetId === subnetId && l.clientId === clientId;
  }

  /** Give `address` to the client; its other active lease in the subnet (if any) is released. */
  private take(address: number, req: { subnetId: string; clientId: string; mac: string; hostname?: string; now: number }, state: 'offered' | 'bound', expiresAt: number): Lease {
    const cur = this.current(req.subnetId, req.clientId);
    if (cur && cur.address !== address && isActive(cur, req.now)) {
      this.put({ ...cur, state: 'released', expiresAt: req.now, updatedAt: req.now });
    }
    const prev = this.byAddress.get(address);
    const sameClient = prev !== undefined && prev.subnetId === req.subnetId && prev.clientId === req.clientId;
    const lease = makeLease({
      address,
      subnetId: req.subnetId,
      clientId: req.clientId,
      mac: req.mac,
      hostname: req.hostname ?? (sameClient ? prev.hostname : undefined),
      state,
      expiresAt,
      updatedAt: req.now,
    });
    this.put(lease);
    return lease;
  }

  allocate(req: AllocateRequest): AllocateResult {
    checkId('subnetId', req.subnetId);
    checkId('clientId', req.clientId);
    if (typeof req.mac !== 'string') throw badRequest('mac must be a string');
    if (req.state !== 'offered' && req.state !== 'bound') throw badRequest(`allocate state must be offered or bound, got ${String(req.state)}`);
    checkTime('expiresAt', req.expiresAt);
    checkTime('now', req.now);
    if (!Array.isArray(req.ranges)) throw badRequest('ranges must be an array');
    for (const r of [...req.ranges, ...(req.exclude ?? [])]) {
      if (!r || !isAddress(r.start) || !isAddress(r.end)) throw badRequest(`not an address range: ${JSON.stringify(r)}`);
    }
    if (req.preferred !== undefined && !isAddress(req.preferred)) throw badRequest(`preferred must be an IPv4 number, got ${String(req.preferred)}`);
    if (req.preferredOnly && req.preferred === undefined) throw badRequest('preferredOnly needs preferred');
    const { now } = req;

    const cur = this.current(req.subnetId, req.clientId);
    if (cur && isActive(cur, now) && !(req.preferredOnly && req.preferred !== cur.address)) {
      if (cur.state === 'bound' && req.state === 'offered') return { ok: true, lease: copy(cur), reused: true };
      const next = makeLease({ ...cur, mac: req.mac, hostname: req.hostname ?? cur.hostname, state: req.state, expiresAt: req.expiresAt, updatedAt: now });
      this.put(next);
      return { ok: true, lease: copy(next), reused: true };
    }

    const dynamic = (a: number) => inRanges(a, req.ranges) && !inRanges(a, req.exclude);
    if (req.preferred !== undefined) {
      const p = req.preferred;
      if ((req.preferredOnly || dynamic(p)) && this.freeFor(p, req.subnetId, req.clientId, now)) {
        const reused = cur !== undefined && cur.address === p;
        return { ok: true, lease: copy(this.take(p, req, req.state, req.expiresAt)), reused };
      }
      if (req.preferredOnly) return { ok: false, reason: 'preferred-unavailable' };
    }
    // The client's previous address, when it is still free: clients keep their address across expiry.
    if (cur && dynamic(cur.address) && this.freeFor(cur.address, req.subnetId, req.clientId, now)) {
      return { ok: true, lease: copy(this.take(cur.address, req, req.state, req.expiresAt)), reused: true };
    }
    for (const r of req.ranges) {
      if (r.end < r.start) continue;
      const size = r.end - r.start + 1;
      const hk = `${req.subnetId}\u0000${r.start}-${r.end}`;
      const from = (this.hints.get(hk) ?? 0) % size;
      for (let i = 0; i < size; i++) {
        const off = (from + i) % size;
        const a = r.start + off;
        if (inRanges(a, req.exclude) || !this.freeFor(a, req.subnetId, req.clientId, now)) continue;
        this.hints.set(hk, (off + 1) % size);
        return { ok: true, lease: copy(this.take(a, req, req.state, req.expiresAt)), reused: false };
      }
    }
    return { ok: false, reason: 'exhausted' };
  }

  commit(req: CommitRequest): CommitResult {
    checkId('subnetId', req.subnetId);
    checkId('clientId', req.clientId);
    if (typeof req.mac !== 'string') throw badRequest('mac must be a string');
    if (!isAddress(req.address)) throw badRequest(`address must be an IPv4 number, got ${String(req.address)}`);
    checkTime('expiresAt', req.expiresAt);
    checkTime('now', req.now);
    const l = this.byAddress.get(req.address);
    if (l) {
      if (isQuarantined(l, req.now)) return { ok: false, reason: 'declined' };
      if (isActive(l, req.now) && !(l.subnetId === req.subnetId && l.clientId === req.clientId)) return { ok: false, reason: 'taken' };
    }
    return { ok: true, lease: copy(this.take(req.address, req, 'bound', req.expiresAt)) };
  }

  release(address: number, clientId: string, now: number): Lease | undefined {
    checkTime('now', now);
    const l = this.byAddress.get(address);
    if (!l || l.clientId !== clientId || (l.state !== 'offered' && l.state !== 'bound')) return undefined;
    const next: Lease = { ...l, state: 'released', expiresAt: now, updatedAt: now };
    this.put(next);
    return copy(next);
  }

  decline(address: number, clientId: string | undefined, subnetId: string, quarantineUntil: number, now: number): Lease | undefined {
    if (!isAddress(address)) throw badRequest(`address must be an IPv4 number, got ${String(address)}`);
    checkId('subnetId', subnetId);
    checkTime('quarantineUntil', quarantineUntil);
    checkTime('now', now);
    const l = this.byAddress.get(address);
    if (l && l.subnetId !== subnetId) return undefined;
    if (clientId !== undefined && (!l || l.clientId !== clientId)) return undefined;
    const next = makeLease({ address, subnetId, clientId: l?.clientId ?? '', mac: l?.mac ?? '', hostname: l?.hostname, state: 'declined', expiresAt: quarantineUntil, updatedAt: now });
    this.put(next);
    return copy(next);
  }

  findByClientId(subnetId: string, clientId: string): Lease | undefined {
    const l = this.current(subnetId, clientId);
    return l && copy(l);
  }

  findByMac(mac: string): Lease[] {
    const s = this.byMac.get(mac);
    if (!s) return [];
    return [...s].sort((a, b) => a - b).map((a) => copy(this.byAddress.get(a) as Lease));
  }

  findByAddress(address: number): Lease | undefined {
    const l = this.byAddress.get(address);
    return l && copy(l);
  }

  reclaimExpired(now: number, limit: number): Lease[] {
    checkTime('now', now);
    const max = Math.max(0, Math.floor(limit));
    const due: Lease[] = [];
    for (const l of this.byAddress.values()) {
      if ((l.state === 'offered' || l.state === 'bound' || l.state === 'declined') && l.expiresAt <= now) due.push(l);
    }
    due.sort((a, b) => a.expiresAt - b.expiresAt || a.address - b.address);
    const out: Lease[] = [];
    for (const l of due.slice(0, max)) {
      const next: Lease = { ...l, state: 'expired', updatedAt: now };
      this.put(next);
      out.push(copy(next));
    }
    return out;
  }

  list(q: LeaseListQuery): LeasePage {
    if (q.state !== undefined && !LEASE_STATES.includes(q.state)) throw badRequest(`unknown lease state ${String(q.state)}`);
    const limit = pageLimit(q.limit, 100, 1000);
    const sorted = (this.sorted ??= [...this.byAddress.keys()].sort((a, b) => a - b));
    let i = q.cursor !== undefined ? upperBound(sorted, decodeLeaseCursor(q.cursor)) : 0;
    const items: Lease[] = [];
    for (; i < sorted.length; i++) {
      const l = this.byAddress.get(sorted[i]) as Lease;
      if ((q.subnetId !== undefined && l.subnetId !== q.subnetId) || (q.state !== undefined && l.state !== q.state)) continue;
      if (items.length === limit) return { items, nextCursor: encodeCursor('lease', items[items.length - 1].address) };
      items.push(copy(l));
    }
    return { items };
  }
}
