import {
  intToIp,
  ipToInt,
  notify,
  type Clock,
  type LeaseDecision,
  type LeaseDecisionContext,
  type LeaseEvent,
  type LeaseStore,
  type Logger,
  type PurebootHooks,
} from '@pureboot/core';
import { DhcpMessageType, MESSAGE_TYPE_NAMES, Opt } from '../codec/constants';
import { DhcpCodecError, DhcpErrorCodes } from '../codec/errors';
import { clientIdOf, encodeOptionValues, getOption, messageTypeOf } from '../codec/options-access';
import type { DhcpPacket } from '../codec/packet';
import { parseDhcpPacket } from '../codec/parse';
import { encodePxeVendorOptions, pxeClientInfo } from '../codec/pxe';
import { relayAgentInfoOf, type RelayAgentInfo } from '../codec/relay-agent';
import type { DhcpMetrics } from '../metrics';
import type { DhcpPluginOptions, ListenOptions } from '../options';
import { selectBootFile } from '../pxe/boot-file';
import type { Inbound } from '../transport/udp';
import { ALLOCATOR_TAP, Allocator, EXHAUSTED_REASON } from './allocator';
import { buildReply, replyDestination } from './reply';
import { contains, type Subnet, type SubnetTable } from './subnets';
import { TokenBucket } from './token-bucket';

/** Option 43 with PXE discovery control = 8 (use the boot file of this answer, no boot-server discovery). */
const PXE_BOOT_FILE_ONLY = encodePxeVendorOptions({ discoveryControl: 8 });

export interface DhcpServerDeps {
  hooks: PurebootHooks;
  store: () => LeaseStore;
  clock: Clock;
  logger: Logger;
  metrics: DhcpMetrics;
  options: DhcpPluginOptions;
  subnets: SubnetTable;
  send(listen: ListenOptions, data: Buffer, to: { address: string; port: number }): Promise<void>;
}

const ZERO = '0.0.0.0';
const MAX_TFTP_DONE = 100_000;

/** Why a datagram got no answer; turned into a counter + packetDropped notification. */
class Drop {
  constructor(
    readonly category: string,
    readonly reason: string,
  ) {}
}

interface Request {
  p: DhcpPacket;
  type: number;
  name: string;
  mac: string;
  clientId: string;
  hostname?: string;
  listen: ListenOptions;
  from: { address: string; port: number };
  relay?: RelayAgentInfo;
  subnet: Subnet;
}

/**
 * The DHCPv4 server's policy: RFC 2131 message handling, leases through the leaseStore, decisions
 * through hooks.leaseDecision (the Allocator is the BUILTIN tap). Transports hand it datagrams;
 * it never throws — every failure is a counted drop.
 */
export class DhcpServer {
  readonly allocator: Allocator;
  private readonly tftpDone = new Map<string, number>();
  private readonly newOfferBucket: TokenBucket | undefined;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: DhcpServerDeps) {
    this.allocator = new Allocator(deps);
    const rate = deps.options.maxNewOffersPerSec;
    this.newOfferBucket = rate > 0 ? new TokenBucket(rate, rate, deps.clock) : undefined;
  }

  /** Remember that a MAC fetched its stage-1 binary (ipxeDetection 'after-tftp'). */
  noteTftpDone(mac: string): void {
    this.tftpDone.delete(mac);
    this.tftpDone.set(mac, this.deps.clock.now());
    if (this.tftpDone.size > MAX_TFTP_DONE) this.tftpDone.delete(this.tftpDone.keys().next().value as string);
    this.deps.metrics.tftpDoneTracked.set(this.tftpDone.size);
  }

  /** Handle one datagram. Never rejects. */
  async handle(m: Inbound): Promise<void> {
    try {
      await this.process(m);
    } catch (err) {
      if (err instanceof Drop) return this.drop(err.category, err.reason, m);
      if (err instanceof DhcpCodecError && err.code !== DhcpErrorCodes.STORE) return this.drop('malformed', err.message, m);
      if (err instanceof DhcpCodecError) {
        this.deps.logger.error({ err, code: err.code }, 'dhcp: lease store failed; request dropped');
        return this.drop('store-error', err.message, m);
      }
      this.deps.logger.error({ err }, 'dhcp: unexpected failure handling a request; dropped');
      this.drop('internal', err instanceof Error ? err.message : String(err), m);
    }
  }

  /** Settle all notifications fired so far (tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private drop(category: string, reason: string, m: Inbound, mac?: string): void {
    this.deps.metrics.dropped.inc({ category });
    this.deps.logger.debug({ category, reason, from: m.from }, 'dhcp: datagram dropped');
    if (this.deps.hooks.packetDropped.isUsed()) this.track(notify(this.deps.hooks.packetDropped, { protocol: 'dhcp', category, reason, from: m.from, mac }, this.deps.logger));
  }

  private bootEvent(kind: string, r: Request, detail: Record<string, unknown>, address?: string): void {
    // Notifications nobody observes cost nothing (no event object, no promise) on the hot path.
    if (!this.deps.hooks.bootEvent.isUsed()) return;
    this.track(
      notify(this.deps.hooks.bootEvent, { mac: r.mac, address, at: this.deps.clock.now(), source: 'dhcp', kind, detail: { xid: r.p.xid, subnet: r.subnet.id, ...detail } }, this.deps.logger),
    );
  }

  private leaseEvent(ev: LeaseEvent): void {
    this.deps.metrics.leases.inc({ kind: ev.kind });
    if (this.deps.hooks.leaseCommitted.isUsed()) this.track(notify(this.deps.hooks.leaseCommitted, ev, this.deps.logger));
  }

  private async process(m: Inbound): Promise<void> {
    const p = parseDhcpPacket(m.data);
    if (p.op !== 1) throw new Drop('not-for-us', 'BOOTREPLY sent to the server port');
    const type = messageTypeOf(p);
    if (type === undefined) throw new Drop('unsupported', 'plain BOOTP request (no option 53)');
    const name = MESSAGE_TYPE_NAMES[type];
    if (!name) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, `unknown DHCP message type ${type}`);
    if (type === DhcpMessageType.OFFER || type === DhcpMessageType.ACK || type === DhcpMessageType.NAK) throw new Drop('not-for-us', `${name} is a server message`);
    if (p.hlen === 0 || (p.htype === 1 && p.hlen !== 6)) throw new DhcpCodecError(DhcpErrorCodes.BAD_HEADER, `hardware address length ${p.hlen} for type ${p.htype}`);
    const mac = p.chaddr;
    this.deps.metrics.received.inc({ type: name });

    let verdict;
    try {
      // No observer, no promise: the hot path skips an unused hook.
      if (this.deps.hooks.packetReceive.isUsed()) verdict = await this.deps.hooks.packetReceive.promise({ protocol: 'dhcp', messageType: name, remote: m.from, interface: m.listen.interface, mac, packet: p });
    } catch (err) {
      throw new Drop('hook-error', `packetReceive tap failed: ${(err as Error).message}`);
    }
    if (verdict?.drop) throw new Drop('policy', verdict.reason);

    const relayed = p.giaddr !== ZERO;
    const relay = relayAgentInfoOf(p);
    let subnet: Subnet | undefined;
    if (relayed) {
      // A relay sends from the server port; a client claiming a giaddr from port 68 is spoofing.
      if (m.from.port !== this.deps.options.port) throw new Drop('spoofed', `giaddr ${p.giaddr} set by a datagram from port ${m.from.port}`);
      const link = relay?.linkSelection ?? getOption<string>(p, Opt.SUBNET_SELECTION) ?? p.giaddr;
      subnet = this.deps.subnets.forAddress(link);
    } else {
      subnet = this.deps.subnets.forListen(m.listen);
    }
    if (!subnet) throw new Drop('no-subnet', relayed ? `no subnet for relay ${p.giaddr}` : `no subnet configured for ${m.listen.address}`);
    let hostname: string | undefined;
    try {
      hostname = getOption<string>(p, 'hostname') ?? getOption<{ name: string }>(p, 'clientFqdn')?.name;
    } catch {
      hostname = undefined;
    }
    const r: Request = { p, type, name, mac, clientId: clientIdOf(p), hostname, listen: m.listen, from: m.from, relay, subnet };

    switch (type) {
      case DhcpMessageType.DISCOVER:
        return this.discover(r);
      case DhcpMessageType.REQUEST:
        return this.request(r);
      case DhcpMessageType.DECLINE:
        return this.decline(r);
      case DhcpMessageType.RELEASE:
        return this.release(r);
      case DhcpMessageType.INFORM:
        return this.inform(r);
      default:
        throw new Drop('unsupported', `message type ${name}`);
    }
  }

  private context(r: Request, messageType: LeaseDecisionContext['messageType'], requestedAddress?: string): LeaseDecisionContext {
    const ctx: LeaseDecisionContext = {
      protocol: 'dhcp',
      messageType,
      mac: r.mac,
      clientId: r.clientId,
      interface: r.listen.interface,
      subnet: { id: r.subnet.id, cidr: r.subnet.cidr },
      pxe: pxeClientInfo(r.p),
      packet: r.p,
    };
    if (r.hostname) ctx.hostname = r.hostname;
    if (requestedAddress) ctx.requestedAddress = requestedAddress;
    if (r.p.giaddr !== ZERO) ctx.relay = { giaddr: r.p.giaddr, circuitId: r.relay?.circuitId, remoteId: r.relay?.remoteId };
    return ctx;
  }

  private async decide(ctx: LeaseDecisionContext): Promise<LeaseDecision> {
    let d: LeaseDecision | undefined;
    try {
      // When the built-in allocator is the only tap, call it directly (no hook round trip).
      const taps = (this.deps.hooks.leaseDecision as unknown as { taps: Array<{ name: string }> }).taps;
      d = taps.length === 1 && taps[0].name === ALLOCATOR_TAP ? await this.allocator.decide(ctx) : await this.deps.hooks.leaseDecision.promise(ctx);
    } catch (err) {
      throw new Drop('hook-error', `leaseDecision tap failed: ${(err as Error).message}`);
    }
    return d ?? { action: 'ignore', reason: 'no leaseDecision tap answered' };
  }

  private serverId(r: Request): string {
    return r.listen.address;
  }

  private ipOpt(r: Request, code: number): string | undefined {
    return getOption<string>(r.p, code);
  }

  private async discover(r: Request): Promise<void> {
    const ctx = this.context(r, 'DISCOVER', this.ipOpt(r, Opt.REQUESTED_IP));
    this.bootEvent('dhcp.discover', r, { pxe: ctx.pxe.archName });
    const d = await this.decide(ctx);
    if (d.action !== 'answer') {
      const exhausted = d.decidedBy === ALLOCATOR_TAP && d.reason === EXHAUSTED_REASON;
      throw new Drop(exhausted ? 'exhausted' : 'policy', d.reason);
    }
    let result = this.allocator.offered.get(ctx);
    if (!result || (d.address && result.ok && intToIp(result.lease.address) !== d.address)) {
      if (d.address && !this.inSubnet(r.subnet, d.address)) throw new Drop('policy', `decided address ${String(d.address)} is not in subnet ${r.subnet.id}`);
      result = await this.storeCall(() => this.allocator.allocate(ctx, r.subnet, d.address));
    }
    if (!result.ok) throw new Drop(result.reason === 'exhausted' ? 'exhausted' : 'policy', result.reason === 'exhausted' ? EXHAUSTED_REASON : `address unavailable (${result.reason})`);
    const lease = result.lease;
    // Flood guard: clients that already hold an address are always answered; addresses newly taken
    // from the pool are limited to maxNewOffersPerSec, so random-MAC floods cannot drain it faster.
    if (!result.reused && this.newOfferBucket && !this.newOfferBucket.take()) {
      await this.storeCall(() => this.deps.store().release(lease.address, r.clientId, this.deps.clock.now()));
      throw new Drop('rate-limit', 'new offers above maxNewOffersPerSec');
    }
    this.leaseEvent({ kind: 'offered', lease });
    await this.answer(r, DhcpMessageType.OFFER, intToIp(lease.address), d, ctx);
  }

  private inSubnet(s: Subnet, ip: string): boolean {
    try {
      return contains(s, ipToInt(ip));
    } catch {
      return false;
    }
  }

  private async nak(r: Request, reason: string): Promise<void> {
    this.bootEvent('dhcp.nak', r, { reason });
    const { bytes } = buildReply(r.p, { type: DhcpMessageType.NAK, serverId: this.serverId(r), message: reason.slice(0, 200) });
    await this.send(r, DhcpMessageType.NAK, bytes);
  }

  private async request(r: Request): Promise<void> {
    const p = r.p;
    const sid = this.ipOpt(r, Opt.SERVER_ID);
    const requested = this.ipOpt(r, Opt.REQUESTED_IP);
    let want: string;
    let state: 'selecting' | 'init-reboot' | 'renewing';
    if (sid !== undefined) {
      if (sid !== this.serverId(r)) throw new Drop('not-for-us', `client selected server ${sid}`);
      if (!requested) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, 'REQUEST in SELECTING state without option 50');
      want = requested;
      state = 'selecting';
    } else if (p.ciaddr === ZERO) {
      if (!requested) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, 'INIT-REBOOT REQUEST without option 50');
      want = requested;
      state = 'init-reboot';
    } else {
      want = p.ciaddr;
      state = 'renewing';
    }
    this.bootEvent('dhcp.request', r, { state, requested: want }, want);
    const authoritative = this.deps.options.authoritative;
    if (!this.inSubnet(r.subnet, want)) {
      if (authoritative) return this.nak(r, `${want} is not on this network`);
      throw new Drop('not-for-us', `${want} is not in ${r.subnet.cidr} (not authoritative)`);
    }
    if (!authoritative && state !== 'selecting') {
      const current = await this.storeCall(() => this.deps.store().findByClientId(r.subnet.id, r.clientId));
      if (!current || intToIp(current.address) !== want) throw new Drop('not-for-us', `no lease on record for ${r.clientId} (not authoritative)`);
    }
    const ctx = this.context(r, 'REQUEST', want);
    const d = await this.decide(ctx);
    if (d.action === 'ignore') throw new Drop('policy', d.reason);
    if (d.action === 'nak') return this.nak(r, d.reason);
    if (d.address && d.address !== want) return this.nak(r, `policy assigns ${d.address}, not ${want}`);
    const now = this.deps.clock.now();
    const leaseSec = d.leaseTimeSec ?? r.subnet.leaseTimeSec;
    const committed = await this.storeCall(() =>
      this.deps.store().commit({ subnetId: r.subnet.id, address: ipToInt(want), clientId: r.clientId, mac: r.mac, hostname: d.hostname ?? r.hostname, expiresAt: now + leaseSec * 1000, now }),
    );
    if (!committed.ok) {
      if (authoritative || state === 'selecting') return this.nak(r, `${want} is ${committed.reason === 'declined' ? 'quarantined' : 'held by another client'}`);
      throw new Drop('not-for-us', `${want} is ${committed.reason}`);
    }
    this.leaseEvent({ kind: state === 'renewing' ? 'renewed' : 'bound', lease: committed.lease });
    await this.answer(r, DhcpMessageType.ACK, want, d, ctx, leaseSec);
  }

  private async decline(r: Request): Promise<void> {
    const sid = this.ipOpt(r, Opt.SERVER_ID);
    if (sid !== undefined && sid !== this.serverId(r)) throw new Drop('not-for-us', `DECLINE for server ${sid}`);
    const addr = this.ipOpt(r, Opt.REQUESTED_IP);
    if (!addr) throw new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, 'DECLINE without option 50');
    if (!this.inSubnet(r.subnet, addr)) throw new Drop('not-for-us', `DECLINE of ${addr} outside ${r.subnet.cidr}`);
    const now = this.deps.clock.now();
    const lease = await this.storeCall(() => this.deps.store().decline(ipToInt(addr), r.clientId, r.subnet.id, now + this.deps.options.declineQuarantineSec * 1000, now));
    if (!lease) throw new Drop('not-owner', `DECLINE of ${addr}, which ${r.clientId} does not hold`);
    this.deps.logger.warn({ address: addr, mac: r.mac }, `dhcp: ${r.mac} declined ${addr} (address conflict); quarantined for ${this.deps.options.declineQuarantineSec} s`);
    this.leaseEvent({ kind: 'declined', lease });
    this.bootEvent('dhcp.decline', r, {}, addr);
  }

  private async release(r: Request): Promise<void> {
    const sid = this.ipOpt(r, Opt.SERVER_ID);
    if (sid !== undefined && sid !== this.serverId(r)) throw new Drop('not-for-us', `RELEASE for server ${sid}`);
    const addr = r.p.ciaddr;
    if (addr === ZERO) throw new DhcpCodecError(DhcpErrorCodes.BAD_HEADER, 'RELEASE without ciaddr');
    const lease = await this.storeCall(() => this.deps.store().release(ipToInt(addr), r.clientId, this.deps.clock.now()));
    if (!lease) throw new Drop('not-owner', `RELEASE of ${addr}, which ${r.clientId} does not hold`);
    this.leaseEvent({ kind: 'released', lease });
    this.bootEvent('dhcp.release', r, {}, addr);
  }

  private async inform(r: Request): Promise<void> {
    this.bootEvent('dhcp.inform', r, {}, r.p.ciaddr);
    const ctx = this.context(r, 'INFORM', r.p.ciaddr !== ZERO ? r.p.ciaddr : undefined);
    const d = await this.decide(ctx);
    if (d.action !== 'answer') throw new Drop('policy', d.reason);
    await this.answer(r, DhcpMessageType.ACK, undefined, d, ctx);
  }

  /** OFFER / ACK with the subnet's, the reservation's and the decision's options and the PXE boot answer. */
  private async answer(r: Request, type: number, yiaddr: string | undefined, d: Extract<LeaseDecision, { action: 'answer' }>, ctx: LeaseDecisionContext, leaseSec?: number): Promise<void> {
    const s = r.subnet;
    const res = this.deps.subnets.reservationFor(s, r.mac, r.clientId);
    const pxe = ctx.pxe;
    const choice = selectBootFile(this.deps.options.pxe, { pxe, mac: r.mac, serverAddress: this.serverId(r), tftpDone: this.tftpDone.has(r.mac) });
    let bootFile = choice?.kind === 'script' ? choice.bootFile : res?.bootFile ?? choice?.bootFile ?? s.bootFile;
    if (d.bootFile) bootFile = d.bootFile;
    const isUrl = bootFile !== undefined && /^[a-z]+:\/\//i.test(bootFile);
    const nextServer = d.nextServer ?? res?.nextServer ?? s.nextServer ?? this.deps.options.pxe.nextServer ?? (bootFile && !isUrl ? this.serverId(r) : undefined);
    const options = new Map(s.options);
    try {
      if (res?.options) for (const [k, v] of encodeOptionValues(res.options)) options.set(k, v);
      if (d.options) for (const [k, v] of encodeOptionValues(d.options)) options.set(k, v);
    } catch (err) {
      throw new Drop('hook-error', `decision options do not encode: ${(err as Error).message}`);
    }
    const hostname = d.hostname ?? res?.hostname;
    if (hostname) options.set(Opt.HOSTNAME, Buffer.from(hostname, 'utf8'));
    if (choice?.vendorClass && !options.has(Opt.VENDOR_CLASS)) options.set(Opt.VENDOR_CLASS, Buffer.from(choice.vendorClass, 'latin1'));
    if (bootFile && nextServer && !isUrl && !options.has(Opt.TFTP_SERVER)) options.set(Opt.TFTP_SERVER, Buffer.from(nextServer, 'latin1'));
    // A PXE answer with option 60 "PXEClient" but no option 43 is a BINL offer to EDK2 (UEFI): it then asks
    // a boot server on 4011 and never uses the file field. Discovery control 8 says "boot the file in this
    // answer" (PXE 2.1 §2.4.2); legacy ROMs and iPXE accept it too (dnsmasq sends the same).
    if (choice?.vendorClass === 'PXEClient' && bootFile && !options.has(Opt.VENDOR_SPECIFIC)) options.set(Opt.VENDOR_SPECIFIC, PXE_BOOT_FILE_ONLY);
    const uuid = r.p.options.get(Opt.CLIENT_UUID);
    if (uuid && pxe.isPxe) options.set(Opt.CLIENT_UUID, uuid);
    const lease = leaseSec ?? d.leaseTimeSec ?? s.leaseTimeSec;
    const times = yiaddr ? { lease, t1: Math.min(s.renewalTimeSec, Math.floor(lease / 2)), t2: Math.min(s.rebindingTimeSec, Math.floor((lease * 7) / 8)) } : undefined;
    const { bytes } = buildReply(r.p, { type, serverId: this.serverId(r), yiaddr, siaddr: nextServer, bootFile, times, options });
    const kind = type === DhcpMessageType.OFFER ? 'dhcp.offer' : 'dhcp.ack';
    this.bootEvent(kind, r, { bootFile, nextServer, decidedBy: d.decidedBy, arch: pxe.archName, ipxe: pxe.isIpxe, boot: choice?.kind }, yiaddr ?? (r.p.ciaddr !== ZERO ? r.p.ciaddr : undefined));
    await this.send(r, type, bytes);
  }

  private async send(r: Request, type: number, bytes: Buffer): Promise<void> {
    const to = replyDestination(r.p, type, { server: this.deps.options.port, client: this.deps.options.clientPort });
    await this.deps.send(r.listen, bytes, to);
    const name = MESSAGE_TYPE_NAMES[type];
    this.deps.metrics.sent.inc({ type: name });
    if (this.deps.hooks.packetSent.isUsed()) this.track(notify(this.deps.hooks.packetSent, { protocol: 'dhcp', messageType: name, to, mac: r.mac, size: bytes.length }, this.deps.logger));
  }

  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Drop) throw err;
      throw new DhcpCodecError(DhcpErrorCodes.STORE, `lease store: ${(err as Error).message}`, { cause: String(err) });
    }
  }

  /** Move expired leases to `expired` and tell the observers. */
  async reclaim(limit = 1000): Promise<number> {
    const expired = await this.deps.store().reclaimExpired(this.deps.clock.now(), limit);
    for (const lease of expired) this.leaseEvent({ kind: 'expired', lease });
    return expired.length;
  }
}
