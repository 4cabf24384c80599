/**
 * The `leaseStore` service contract. A storage plugin provides it; the DHCP plugin consumes it.
 *
 * Addresses are IPv4 numbers (uint32) inside the store contract so that range arithmetic and
 * database ordering are exact; `ipToInt` / `intToIp` in core convert. Every mutating call is one
 * round trip to the backing store, so the DHCP hot path costs one store call per message.
 */

export type LeaseState = 'offered' | 'bound' | 'released' | 'declined' | 'expired';

export interface Lease {
  /** IPv4 address as an unsigned 32-bit number. */
  address: number;
  /** The subnet (config id) the address belongs to. */
  subnetId: string;
  /** Client identity: hex of option 61 when sent, else `01` + chaddr hex (RFC 2132 convention). */
  clientId: string;
  /** Lower-case colon MAC (chaddr). */
  mac: string;
  hostname?: string;
  state: LeaseState;
  /** Epoch ms at which an offer, binding or quarantine ends. */
  expiresAt: number;
  /** Epoch ms of the last change. */
  updatedAt: number;
}

/** An inclusive address range, as uint32. */
export interface AddressRange {
  start: number;
  end: number;
}

export interface AllocateRequest {
  subnetId: string;
  clientId: string;
  mac: string;
  hostname?: string;
  /** Dynamic ranges to allocate from (pools), in preference order. */
  ranges: AddressRange[];
  /** Addresses never to hand out dynamically (excluded ranges, reserved host addresses). */
  exclude?: AddressRange[];
  /** Address the client asked for (option 50) or a reservation; used when free or already the client's. */
  preferred?: number;
  /** With `preferred`: only that address will do; never fall back to the pool. */
  preferredOnly?: boolean;
  /** State of the new or reused lease: `offered` for DISCOVER, `bound` for a rapid-commit style direct bind. */
  state: 'offered' | 'bound';
  /** Epoch ms at which the lease (or offer hold) ends. */
  expiresAt: number;
  /** Epoch ms "now", from the injected clock. */
  now: number;
}

export type AllocateResult =
  | { ok: true; lease: Lease; reused: boolean }
  | { ok: false; reason: 'exhausted' | 'preferred-unavailable' };

export interface CommitRequest {
  subnetId: string;
  address: number;
  clientId: string;
  mac: string;
  hostname?: string;
  expiresAt: number;
  now: number;
}

export type CommitResult =
  | { ok: true; lease: Lease }
  /** The address is held by another client (offered or bound and not expired), or quarantined. */
  | { ok: false; reason: 'taken' | 'declined' };

export interface LeaseListQuery {
  subnetId?: string;
  state?: LeaseState;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** Page size, 1..1000. */
  limit?: number;
}

export interface LeasePage {
  items: Lease[];
  nextCursor?: string;
}

export interface LeaseStore {
  /**
   * Atomically pick an address for a client: its existing unexpired lease in the subnet if any, else
   * `preferred` when free, else the next free address of `ranges`. Two allocators (even in two
   * processes sharing a backend) never hold the same address. Exhaustion is a result, not an error.
   */
  allocate(req: AllocateRequest): Promise<AllocateResult>;
  /**
   * Bind (or renew) `address` for the client: succeeds when the address is free, expired, or already
   * held by this client. Resolves only once the record is durable per the backend's policy.
   */
  commit(req: CommitRequest): Promise<CommitResult>;
  /** Mark the client's lease released. Returns the lease, or undefined when the client did not hold it. */
  release(address: number, clientId: string, now: number): Promise<Lease | undefined>;
  /**
   * Quarantine the address until `quarantineUntil` (DHCPDECLINE). When `clientId` is given only that
   * client's lease can be declined. Returns the quarantined record, or undefined if not applicable.
   */
  decline(address: number, clientId: string | undefined, subnetId: string, quarantineUntil: number, now: number): Promise<Lease | undefined>;
  findByClientId(subnetId: string, clientId: string): Promise<Lease | undefined>;
  findByMac(mac: string): Promise<Lease[]>;
  findByAddress(address: number): Promise<Lease | undefined>;
  /** Move up to `limit` leases whose `expiresAt <= now` and state offered/bound/declined to `expired`. */
  reclaimExpired(now: number, limit: number): Promise<Lease[]>;
  list(query: LeaseListQuery): Promise<LeasePage>;
}

export function ipToInt(ip: string): number {
  // Hand-written (no split, no regex): every DHCP request converts a few addresses.
  const n = typeof ip === 'string' ? ip.length : 0;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) break;
    } else {
      digits = -1;
      break;
    }
  }
  if (dots !== 3 || digits <= 0 || part > 255) throw new TypeError(`not an IPv4 address: ${ip}`);
  return (value * 256 + part) >>> 0;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
