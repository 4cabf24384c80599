import { codec, type DhcpPacket } from '@pureboot/plugin-dhcp';

const { emptyPacket, DhcpMessageType, Opt } = codec;

export interface ProxyReplySpec {
  messageType: 'OFFER' | 'ACK';
  /** Our address: option 54. */
  serverId: string;
  /** siaddr (next-server). */
  nextServer: string;
  /** Boot file or URL; undefined → the answer names none. */
  bootFile?: string;
  /** Option 43 payload, or null for none. */
  vendor: Buffer | null;
  /** Echo `HTTPClient` in option 60 (UEFI HTTP boot) instead of `PXEClient`. */
  httpClient: boolean;
  /** Extra options from a leaseDecision answer (already encoded); an entry with an empty key set removes nothing. */
  extra?: Map<number, Buffer>;
}

/** The longest boot file name the BOOTP `file` field holds (128 bytes, NUL-terminated). */
const FILE_FIELD_MAX = 127;

/**
 * A proxy-DHCP answer to one request (PXE 2.1 §2.2.2): yiaddr 0 (never an address), xid, flags,
 * ciaddr, giaddr and chaddr from the request, option 60 `PXEClient`, server identifier, option 43,
 * option 97 echoed, siaddr + file. A file name too long for the `file` field goes in option 67.
 */
export function buildProxyReply(req: DhcpPacket, spec: ProxyReplySpec): DhcpPacket {
  const r = emptyPacket(2);
  r.htype = req.htype;
  r.hlen = req.hlen;
  r.xid = req.xid;
  r.flags = req.flags;
  r.ciaddr = req.ciaddr;
  r.yiaddr = '0.0.0.0';
  r.siaddr = spec.nextServer;
  r.giaddr = req.giaddr;
  r.chaddr = req.chaddr;
  const o = r.options;
  o.set(Opt.MESSAGE_TYPE, Buffer.from([DhcpMessageType[spec.messageType]]));
  o.set(Opt.SERVER_ID, ipBytes(spec.serverId));
  o.set(Opt.VENDOR_CLASS, Buffer.from(spec.httpClient ? 'HTTPClient' : 'PXEClient', 'latin1'));
  if (spec.vendor) o.set(Opt.VENDOR_SPECIFIC, spec.vendor);
  const uuid = req.options.get(Opt.CLIENT_UUID);
  if (uuid) o.set(Opt.CLIENT_UUID, uuid);
  if (spec.bootFile !== undefined) {
    if (Buffer.byteLength(spec.bootFile, 'latin1') <= FILE_FIELD_MAX) r.file = spec.bootFile;
    else o.set(Opt.BOOTFILE, Buffer.from(spec.bootFile, 'latin1'));
  }
  for (const [code, data] of spec.extra ?? []) {
    if (code === Opt.MESSAGE_TYPE || code === Opt.SERVER_ID) continue;
    o.set(code, data);
  }
  // Relay agent information goes back to the relay (RFC 3046 §2.2), last.
  const rai = req.options.get(Opt.RELAY_AGENT);
  if (rai && req.giaddr !== '0.0.0.0') o.set(Opt.RELAY_AGENT, rai);
  return r;
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}
