/**
 * The decoded form of one BOOTP/DHCPv4 datagram (RFC 951, RFC 2131 §2).
 *
 * Options are kept as raw bytes, one entry per option code, in the order the codes first appeared
 * on the wire. Several instances of one code (RFC 3396 long options, or instances spread over the
 * options/file/sname areas with option 52 overload) are already concatenated. Typed access goes
 * through the option registry: `getOption(packet, 'router')`, `setOption(packet, 'router', [...])`.
 */
export interface DhcpPacket {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  op: number;
  /** Hardware type (1 = Ethernet). */
  htype: number;
  /** Hardware address length, 0..16. */
  hlen: number;
  hops: number;
  /** Transaction id, uint32. */
  xid: number;
  secs: number;
  /** 0x8000 = broadcast. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The first `hlen` bytes of chaddr, lower-case hex pairs joined by ':' (the MAC for Ethernet). */
  chaddr: string;
  /** Server host name (empty when the field carries options, or is unused). */
  sname: string;
  /** Boot file name (empty when the field carries options, or is unused). */
  file: string;
  /** Option code → payload (concatenated per RFC 3396). Never holds PAD, END or OVERLOAD (52). */
  options: Map<number, Buffer>;
}

/** A fresh packet with every header field zero and no options. */
export function emptyPacket(op = 2): DhcpPacket {
  return {
    op,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '00:00:00:00:00:00',
    sname: '',
    file: '',
    options: new Map(),
  };
}
