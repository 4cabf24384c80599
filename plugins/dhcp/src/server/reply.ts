import { BROADCAST_FLAG, DhcpMessageType, Opt } from '../codec/constants';
import { getOption, orderReplyOptions } from '../codec/options-access';
import { emptyPacket, type DhcpPacket } from '../codec/packet';
import { serializeDhcpPacket } from '../codec/serialize';
import { T } from '../codec/option-types';

export interface ReplySpec {
  type: number;
  serverId: string;
  yiaddr?: string;
  siaddr?: string;
  bootFile?: string;
  /** Lease, T1 and T2 in seconds (OFFER/ACK for an address). */
  times?: { lease: number; t1: number; t2: number };
  options?: Map<number, Buffer>;
  message?: string;
}

const ZERO = '0.0.0.0';

/** Option 53 payloads, one per message type (shared: the encoder only reads them). */
const TYPE_PAYLOAD = Array.from({ length: 256 }, (_, t) => Buffer.from([t]));
/** Option 54 payloads by server address: a server has a handful, every reply carries one. */
const serverIdPayloads = new Map<string, Buffer>();
function serverIdPayload(serverId: string): Buffer {
  let b = serverIdPayloads.get(serverId);
  if (!b) {
    b = T.ip.encode(serverId, Opt.SERVER_ID);
    if (serverIdPayloads.size < 1024) serverIdPayloads.set(serverId, b);
  }
  return b;
}

/** Build and encode a BOOTREPLY for a request (RFC 2131 §4.3.1 table 3). */
export function buildReply(req: DhcpPacket, spec: ReplySpec): { packet: DhcpPacket; bytes: Buffer } {
  const r = emptyPacket(2);
  r.htype = req.htype;
  r.hlen = req.hlen;
  r.xid = req.xid;
  r.flags = req.flags;
  r.giaddr = req.giaddr;
  r.chaddr = req.chaddr;
  const isNak = spec.type === DhcpMessageType.NAK;
  if (isNak && req.giaddr !== ZERO) r.flags |= BROADCAST_FLAG;
  if (spec.type === DhcpMessageType.ACK && req.ciaddr !== ZERO) r.ciaddr = req.ciaddr;
  if (!isNak) {
    r.yiaddr = spec.yiaddr ?? ZERO;
    r.siaddr = spec.siaddr ?? ZERO;
  }
  const opts = new Map<number, Buffer>();
  opts.set(Opt.MESSAGE_TYPE, TYPE_PAYLOAD[spec.type & 255]);
  opts.set(Opt.SERVER_ID, serverIdPayload(spec.serverId));
  if (!isNak) {
    if (spec.times) {
      opts.set(Opt.LEASE_TIME, T.u32.encode(spec.times.lease, Opt.LEASE_TIME));
      opts.set(Opt.RENEWAL_TIME, T.u32.encode(spec.times.t1, Opt.RENEWAL_TIME));
      opts.set(Opt.REBINDING_TIME, T.u32.encode(spec.times.t2, Opt.REBINDING_TIME));
    }
    for (const [code, v] of spec.options ?? []) if (!opts.has(code)) opts.set(code, v);
    if (spec.bootFile) {
      // The file field when it fits (what PXE ROMs read), option 67 too (what iPXE and Linux clients read).
      if (Buffer.byteLength(spec.bootFile, 'latin1') < 128 && /^[\x01-\xff]*$/.test(spec.bootFile)) r.file = spec.bootFile;
      opts.set(Opt.BOOTFILE, Buffer.from(spec.bootFile, 'utf8'));
    }
  }
  if (spec.message) opts.set(Opt.MESSAGE, Buffer.from(spec.message, 'utf8'));
  const rai = req.options.get(Opt.RELAY_AGENT);
  if (rai && req.giaddr !== ZERO) opts.set(Opt.RELAY_AGENT, rai);
  let prl: number[] | undefined;
  try {
    prl = getOption<number[]>(req, Opt.PARAMETER_LIST);
  } catch {
    prl = undefined;
  }
  r.options = orderReplyOptions(opts, prl);
  let maxMsg = 576;
  try {
    maxMsg = Math.max(576, getOption<number>(req, Opt.MAX_MESSAGE_SIZE) ?? 576);
  } catch {
    maxMsg = 576;
  }
  // Ethernet-sized datagrams at most: IP (20) + UDP (8) headers come off the limit.
  const maxSize = Math.min(maxMsg, 1500) - 28;
  return { packet: r, bytes: serializeDhcpPacket(r, { maxSize }) };
}

/** Where a reply goes (RFC 2131 §4.1). Unicast to yiaddr would need an ARP entry: broadcast instead. */
export function replyDestination(req: DhcpPacket, type: number, ports: { server: number; client: number }): { address: string; port: number } {
  if (req.giaddr !== ZERO) return { address: req.giaddr, port: ports.server };
  if (type === DhcpMessageType.NAK) return { address: '255.255.255.255', port: ports.client };
  if (req.ciaddr !== ZERO) return { address: req.ciaddr, port: ports.client };
  return { address: '255.255.255.255', port: ports.client };
}
