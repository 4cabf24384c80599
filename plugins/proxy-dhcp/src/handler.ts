import { notify, type BootEvent, type Endpoint, type LeaseDecision, type LeaseDecisionContext, type Logger, type PurebootHooks, type PxeClientInfo } from '@pureboot/core';
import { codec, type DhcpPacket } from '@pureboot/plugin-dhcp';
import { chooseBoot, Discovery, type BootChoice, type ResolvedProxyOptions } from './boot-choice';
import type { TftpDoneTracker } from './ipxe-tracker';
import type { ProxyMetrics } from './metrics';
import { buildProxyReply } from './reply';
import { matchRule } from './rules';

const { parseDhcpPacket, serializeDhcpPacket, pxeClientInfo, decodePxeVendorOptions, encodeOptionValues, optionDef, clientIdOf, encodePxeVendorOptions, MESSAGE_TYPE_NAMES, Opt, DhcpMessageType } = codec;

/** Name of the built-in leaseDecision tap (and its `decidedBy`). */
export const BUILTIN_TAP = 'proxy-dhcp:builtin';

/** Which of the two sockets a datagram came in on. */
export type ProxyPort = 'dhcp' | 'boot-server';

export interface ProxyHandlerDeps {
  hooks: PurebootHooks;
  logger: Logger;
  metrics: ProxyMetrics;
  now: () => number;
  options: ResolvedProxyOptions;
  tracker: TftpDoneTracker;
}

/** One answer, ready to send (after `delayMs`), and what to tell the observers once it left. */
export interface ProxyAnswer {
  port: ProxyPort;
  to: Endpoint;
  data: Buffer;
  messageType: 'OFFER' | 'ACK';
  mac: string;
  delayMs: number;
  kind: string;
  event: BootEvent;
}

/** Largest answer we build: PXE ROMs handle 576-byte messages (RFC 2131 §2) and little more. */
const MAX_REPLY_SIZE = 576;

function ipText(buf: Buffer | undefined): string | undefined {
  return buf && buf.length === 4 ? `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}` : undefined;
}

/** A relay address we may answer to: not 0/8, loopback, multicast, class E or broadcast. */
function isUnicast(ip: string): boolean {
  const a = Number(ip.split('.')[0]);
  return a !== 0 && a !== 127 && a < 224;
}

/**
 * The proxy-DHCP policy for one datagram: decode, keep only PXE clients, run packetReceive and
 * leaseDecision (the built-in answer is the BUILTIN-stage tap `builtinDecision`), build the answer.
 * Never throws: every datagram it does not answer is counted and reported through packetDropped.
 */
export class ProxyDhcpHandler {
  /** The built-in choice for a request in flight, read by the BUILTIN leaseDecision tap. */
  private readonly choices = new WeakMap<object, BootChoice>();

  constructor(private readonly d: ProxyHandlerDeps) {}

  async handle(data: Buffer, remote: Endpoint, port: ProxyPort): Promise<ProxyAnswer | undefined> {
    let req: DhcpPacket;
    try {
      req = parseDhcpPacket(data);
    } catch (err) {
      this.d.metrics.received.inc({ port: this.portNumber(port), type: 'malformed' });
      this.drop('malformed', (err as Error).message, remote);
      return undefined;
    }
    let typeCode: number | undefined;
    const mt = req.options.get(Opt.MESSAGE_TYPE);
    if (mt && mt.length === 1) typeCode = mt[0];
    const typeName = typeCode !== undefined ? MESSAGE_TYPE_NAMES[typeCode] ?? `TYPE${typeCode}` : mt ? 'malformed' : 'BOOTP';
    this.d.metrics.received.inc({ port: this.portNumber(port), type: typeName });
    const mac = req.chaddr;
    if (mt && mt.length !== 1) return this.drop('malformed', `option 53 has ${mt.length} bytes`, remote, mac);
    if (req.op !== 1) return this.drop('not-for-us', 'not a BOOTREQUEST', remote, mac);
    if (req.giaddr !== '0.0.0.0' && !isUnicast(req.giaddr)) return this.drop('malformed', `giaddr ${req.giaddr} is not a unicast address`, remote, mac);
    const pxe = pxeClientInfo(req);
    if (!pxe.isPxe) return this.drop('not-for-us', 'not a PXE client (no option 60 PXEClient/HTTPClient)', remote, mac);

    let messageType: 'DISCOVER' | 'REQUEST' | 'INFORM';
    if (port === 'dhcp' && typeCode === DhcpMessageType.DISCOVER) messageType = 'DISCOVER';
    else if (port === 'boot-server' && (typeCode === DhcpMessageType.REQUEST || typeCode === DhcpMessageType.INFORM)) messageType = typeCode === DhcpMessageType.REQUEST ? 'REQUEST' : 'INFORM';
    else {
      if (port === 'dhcp' && typeCode === DhcpMessageType.REQUEST) this.observeRequest(req, pxe);
      return this.drop('not-for-us', `${typeName} on port ${this.portNumber(port)} is not for the proxy`, remote, mac);
    }

    try {
      const verdict = await this.d.hooks.packetReceive.promise({ protocol: 'proxy-dhcp', messageType, remote, interface: this.d.options.interface, mac, packet: req });
      if (verdict !== undefined) return this.drop('policy', `packetReceive: ${verdict.reason}`, remote, mac);
    } catch (err) {
      return this.drop('hook-error', `packetReceive tap failed: ${(err as Error).message}`, remote, mac);
    }

    const rule = matchRule(this.d.options.rules, { mac, pxe });
    let bootItem: { type: number; layer: number } | undefined;
    const o43 = req.options.get(Opt.VENDOR_SPECIFIC);
    if (o43) {
      try {
        bootItem = decodePxeVendorOptions(o43).bootItem;
      } catch {
        bootItem = undefined; // a malformed option 43 from a client only loses the menu choice
      }
    }
    const choice = chooseBoot({ mac, messageType, pxe, rule, tftpDone: this.d.tracker.downloaded(mac, this.d.now()), bootItem }, this.d.options);
    const requestedAddress = ipText(req.options.get(Opt.REQUESTED_IP)) ?? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : undefined);
    const ctx: LeaseDecisionContext = {
      protocol: 'proxy-dhcp',
      messageType,
      mac,
      clientId: clientIdOf(req),
      pxe,
      packet: req,
    };
    const hostname = req.options.get(Opt.HOSTNAME);
    if (hostname && hostname.length > 0) ctx.hostname = hostname.toString('latin1').replace(/\0+$/, '');
    if (requestedAddress) ctx.requestedAddress = requestedAddress;
    if (req.giaddr !== '0.0.0.0') ctx.relay = { giaddr: req.giaddr };
    if (this.d.options.interface) ctx.interface = this.d.options.interface;
    this.choices.set(req, choice);

    let decision: LeaseDecision | undefined;
    try {
      decision = await this.d.hooks.leaseDecision.promise(ctx);
    } catch (err) {
      return this.drop('hook-error', `leaseDecision tap failed: ${(err as Error).message}`, remote, mac);
    }
    if (decision === undefined) return this.drop('no-answer', 'no leaseDecision tap answered', remote, mac);
    if (decision.action !== 'answer') return this.drop('policy', `leaseDecision (${decision.decidedBy ?? 'a tap'}): ${decision.action}: ${decision.reason}`, remote, mac);

    // A site answer overrides the built-in choice field by field (core's LeaseDecision contract).
    const builtin = choice.action === 'answer' ? choice : undefined;
    const bootFile = decision.bootFile ?? builtin?.bootFile;
    if (bootFile === undefined && !builtin) return this.drop('no-answer', `leaseDecision answered without a boot file and the built-in choice is "${choice.action === 'ignore' ? choice.reason : ''}"`, remote, mac);
    const nextServer = decision.nextServer ?? builtin?.nextServer ?? this.d.options.tftpServer;
    let extra: Map<number, Buffer> | undefined;
    let vendor: Buffer | null = builtin?.vendor ?? null;
    if (decision.options) {
      try {
        const values: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(decision.options)) {
          const def = optionDef(k);
          if (def?.code === Opt.VENDOR_SPECIFIC) {
            vendor = v === null || v === undefined ? null : encodeOptionValues({ [k]: v }).get(Opt.VENDOR_SPECIFIC) ?? null;
          } else values[k] = v;
        }
        extra = encodeOptionValues(values);
      } catch (err) {
        return this.drop('policy', `leaseDecision options do not encode: ${(err as Error).message}`, remote, mac);
      }
    } else if (!builtin && bootFile !== undefined) {
      vendor = encodePxeVendorOptions({ discoveryControl: Discovery.USE_BOOT_FILE });
    }

    const replyType = messageType === 'DISCOVER' ? 'OFFER' : 'ACK';
    let out: Buffer;
    try {
      const reply = buildProxyReply(req, { messageType: replyType, serverId: this.d.options.serverAddress, nextServer, bootFile, vendor, httpClient: pxe.isHttpBoot, extra });
      out = serializeDhcpPacket(reply, { maxSize: MAX_REPLY_SIZE });
    } catch (err) {
      // PB_ERR_PROXY_ENCODE: logged with the cause; the client gets nothing.
      this.d.logger.warn({ code: 'PB_ERR_PROXY_ENCODE', mac, err }, `proxy-dhcp: cannot encode the ${replyType} for ${mac}: ${(err as Error).message}`);
      return this.drop('policy', `answer does not encode: ${(err as Error).message}`, remote, mac);
    }

    const to = port === 'boot-server' ? remote : req.giaddr !== '0.0.0.0' ? { address: req.giaddr, port: 67 } : { address: this.d.options.broadcast, port: 68 };
    const address = port === 'boot-server' ? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : remote.address) : requestedAddress;
    if (address) this.d.tracker.learnAddress(address, mac);
    const kind = builtin && decision.decidedBy === BUILTIN_TAP ? builtin.kind : 'site';
    const event: BootEvent = {
      mac,
      at: this.d.now(),
      source: 'proxy-dhcp',
      kind: replyType === 'OFFER' ? 'proxy.offer' : 'proxy.ack',
      detail: {
        arch: pxe.arch,
        archName: pxe.archName,
        vendorClass: pxe.vendorClass,
        ipxe: pxe.isIpxe,
        bootFile,
        nextServer,
        answer: kind,
        strategy: builtin?.strategy,
        port: this.portNumber(port),
        decidedBy: decision.decidedBy,
        ...(ctx.relay ? { giaddr: ctx.relay.giaddr } : {}),
      },
    };
    if (address) event.address = address;
    return { port, to, data: out, messageType: replyType, mac, delayMs: rule?.delayMs ?? 0, kind, event };
  }

  /** The built-in answer: the BUILTIN-stage leaseDecision tap (only for requests this handler is deciding). */
  builtinDecision(ctx: LeaseDecisionContext): LeaseDecision | undefined {
    if (ctx.protocol !== 'proxy-dhcp' || typeof ctx.packet !== 'object' || ctx.packet === null) return undefined;
    const choice = this.choices.get(ctx.packet);
    if (!choice) return undefined;
    if (choice.action === 'ignore') return { action: 'ignore', reason: choice.reason, decidedBy: BUILTIN_TAP };
    return { action: 'answer', ...(choice.bootFile !== undefined ? { bootFile: choice.bootFile } : {}), nextServer: choice.nextServer, decidedBy: BUILTIN_TAP };
  }

  /** After a send: metrics, packetSent and the boot event. */
  async sent(a: ProxyAnswer): Promise<void> {
    this.d.metrics.replies.inc({ type: a.messageType, kind: a.kind });
    await Promise.all([
      notify(this.d.hooks.packetSent, { protocol: 'proxy-dhcp', messageType: a.messageType, to: a.to, mac: a.mac, size: a.data.length }, this.d.logger),
      notify(this.d.hooks.bootEvent, a.event, this.d.logger),
    ]);
  }

  /** A send failed: counted and reported like any other unanswered request. */
  sendFailed(a: ProxyAnswer, err: Error): void {
    this.drop('send-error', `sending the ${a.messageType} to ${a.to.address}:${a.to.port} failed: ${err.message}`, a.to, a.mac);
  }

  /**
   * A PXE client's REQUEST to the site DHCP server (heard on port 67, not answered): tells which
   * address the MAC is taking, so TFTP transfers from that address can be attributed (proxy.request).
   */
  private observeRequest(req: DhcpPacket, pxe: PxeClientInfo): void {
    const address = ipText(req.options.get(Opt.REQUESTED_IP)) ?? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : undefined);
    if (!address) return;
    this.d.tracker.learnAddress(address, req.chaddr);
    const serverId = ipText(req.options.get(Opt.SERVER_ID));
    void notify(
      this.d.hooks.bootEvent,
      { mac: req.chaddr, address, at: this.d.now(), source: 'proxy-dhcp', kind: 'proxy.request', detail: { serverId, arch: pxe.arch, archName: pxe.archName, ipxe: pxe.isIpxe } },
      this.d.logger,
    );
  }

  private portNumber(port: ProxyPort): string {
    return String(port === 'dhcp' ? this.d.options.port : this.d.options.bootServerPort);
  }

  private drop(category: string, reason: string, from: Endpoint, mac?: string): undefined {
    this.d.metrics.dropped.inc({ category });
    if (category !== 'not-for-us') this.d.logger.debug({ category, reason, from, mac }, 'proxy-dhcp: datagram dropped');
    void notify(this.d.hooks.packetDropped, { protocol: 'proxy-dhcp', category, reason, from, ...(mac ? { mac } : {}) }, this.d.logger);
    return undefined;
  }
}
