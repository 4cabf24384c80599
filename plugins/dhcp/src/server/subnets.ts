import { ipToInt, intToIp, type AddressRange } from '@pureboot/core';
import { DhcpCodecError, DhcpErrorCodes } from '../codec/errors';
import { encodeOptionValues } from '../codec/options-access';
import type { DhcpPluginOptions, ListenOptions, ReservationOptions, SubnetOptions } from '../options';

export interface Reservation extends ReservationOptions {
  addressInt: number;
  /** Lower-case colon MAC. */
  macNorm?: string;
  /** Lower-case hex without separators. */
  clientIdNorm?: string;
}

/** A subnet with its ranges as numbers and its options encoded once. */
export interface Subnet {
  id: string;
  cidr: string;
  network: number;
  mask: number;
  prefix: number;
  broadcast: number;
  pools: AddressRange[];
  exclude: AddressRange[];
  reservations: Reservation[];
  byMac: Map<string, Reservation>;
  byClientId: Map<string, Reservation>;
  leaseTimeSec: number;
  renewalTimeSec: number;
  rebindingTimeSec: number;
  /** Encoded subnet options (1, 3, 6, 15, 28 + the extra ones). */
  options: Map<number, Buffer>;
  bootFile?: string;
  nextServer?: string;
  raw: SubnetOptions;
}

function configError(message: string, details: Record<string, unknown> = {}): DhcpCodecError {
  return new DhcpCodecError(DhcpErrorCodes.CONFIG, message, details);
}

function toInt(ip: string, where: string): number {
  try {
    return ipToInt(ip);
  } catch {
    throw configError(`${where}: not an IPv4 address: ${ip}`);
  }
}

export function parseRange(s: string, where: string): AddressRange {
  const [a, b] = s.split('-').map((x) => x.trim());
  const start = toInt(a, where);
  const end = b === undefined ? start : toInt(b, where);
  if (end < start) throw configError(`${where}: range ${s} ends before it starts`);
  return { start, end };
}

export function normMac(mac: string): string {
  return mac.toLowerCase().replace(/-/g, ':');
}

export function buildSubnet(o: SubnetOptions): Subnet {
  const [ip, p] = o.cidr.split('/');
  const prefix = Number(p);
  if (prefix < 1 || prefix > 30) throw configError(`subnet ${o.id}: prefix /${prefix} must be 1..30`, { subnet: o.id });
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (toInt(ip, `subnet ${o.id}`) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  const inside = (a: number) => a > network && a < broadcast;
  const pools = o.pools.map((r) => parseRange(r, `subnet ${o.id} pool`));
  for (const r of pools) if (!inside(r.start) || !inside(r.end)) throw configError(`subnet ${o.id}: pool ${intToIp(r.start)}-${intToIp(r.end)} is not inside ${o.cidr}`, { subnet: o.id });
  const exclude = o.exclude.map((r) => parseRange(r, `subnet ${o.id} exclude`));
  const reservations: Reservation[] = [];
  const byMac = new Map<string, Reservation>();
  const byClientId = new Map<string, Reservation>();
  const seen = new Set<number>();
  for (const r of o.reservations) {
    if (!r.mac && !r.clientId) throw configError(`subnet ${o.id}: reservation ${r.address} needs a mac or a clientId`, { subnet: o.id });
    const addressInt = toInt(r.address, `subnet ${o.id} reservation`);
    if (!inside(addressInt)) throw configError(`subnet ${o.id}: reservation ${r.address} is not inside ${o.cidr}`, { subnet: o.id });
    if (seen.has(addressInt)) throw configError(`subnet ${o.id}: address ${r.address} is reserved twice`, { subnet: o.id });
    seen.add(addressInt);
    const res: Reservation = { ...r, addressInt, macNorm: r.mac ? normMac(r.mac) : undefined, clientIdNorm: r.clientId ? r.clientId.replace(/:/g, '').toLowerCase() : undefined };
    if (res.options) encodeOptionValues(res.options);
    reservations.push(res);
    if (res.macNorm) byMac.set(res.macNorm, res);
    if (res.clientIdNorm) byClientId.set(res.clientIdNorm, res);
  }
  // Reserved addresses are never handed out dynamically.
  const allExclude = [...exclude, ...reservations.map((r) => ({ start: r.addressInt, end: r.addressInt }))];
  const values: Record<string, unknown> = { subnetMask: intToIp(mask), broadcastAddress: intToIp(broadcast) };
  if (o.router?.length) values.router = o.router;
  if (o.dns?.length) values.dns = o.dns;
  if (o.domainName) values.domainName = o.domainName;
  let options: Map<number, Buffer>;
  try {
    options = encodeOptionValues({ ...values, ...o.options });
  } catch (err) {
    throw configError(`subnet ${o.id}: ${(err as Error).message}`, { subnet: o.id });
  }
  const lease = o.leaseTimeSec;
  const t1 = o.renewalTimeSec ?? Math.floor(lease / 2);
  const t2 = o.rebindingTimeSec ?? Math.floor((lease * 7) / 8);
  if (!(t1 < t2 && t2 < lease)) throw configError(`subnet ${o.id}: need renewalTimeSec < rebindingTimeSec < leaseTimeSec`, { subnet: o.id });
  return {
    id: o.id,
    cidr: o.cidr,
    network,
    mask,
    prefix,
    broadcast,
    pools,
    exclude: allExclude,
    reservations,
    byMac,
    byClientId,
    leaseTimeSec: lease,
    renewalTimeSec: t1,
    rebindingTimeSec: t2,
    options,
    bootFile: o.bootFile,
    nextServer: o.nextServer,
    raw: o,
  };
}

export function contains(s: Subnet, address: number): boolean {
  return ((address & s.mask) >>> 0) === s.network;
}

/** True when `a` is one of the subnet's dynamic addresses (in a pool, not excluded or reserved). */
export function isDynamic(s: Subnet, a: number): boolean {
  const inR = (rs: AddressRange[]) => rs.some((r) => a >= r.start && a <= r.end);
  return inR(s.pools) && !inR(s.exclude);
}

export class SubnetTable {
  readonly subnets: Subnet[];
  constructor(opts: Pick<DhcpPluginOptions, 'subnets'>) {
    this.subnets = opts.subnets.map(buildSubnet);
    const ids = new Set<string>();
    for (const s of this.subnets) {
      if (ids.has(s.id)) throw configError(`two subnets have the id ${s.id}`);
      ids.add(s.id);
      for (const t of this.subnets) {
        if (t !== s && (contains(t, s.network) || contains(s, t.network))) throw configError(`subnets ${s.id} (${s.cidr}) and ${t.id} (${t.cidr}) overlap`);
      }
    }
  }

  byId(id: string): Subnet | undefined {
    return this.subnets.find((s) => s.id === id);
  }

  /** The subnet an address belongs to. */
  forAddress(ip: string | number): Subnet | undefined {
    let a: number;
    try {
      a = typeof ip === 'number' ? ip : ipToInt(ip);
    } catch {
      return undefined;
    }
    return this.subnets.find((s) => contains(s, a));
  }

  /** The subnet for a direct (non-relayed) client: the one holding the address of the link it arrived on. */
  forListen(l: ListenOptions): Subnet | undefined {
    return this.forAddress(l.address);
  }

  reservationFor(s: Subnet, mac: string, clientId: string): Reservation | undefined {
    return s.byClientId.get(clientId) ?? s.byMac.get(mac);
  }
}
