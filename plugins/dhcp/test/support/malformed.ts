import { serializeDhcpPacket, setOption } from '../../src/codec';
import { clientPacket, DhcpMessageType as M } from './harness';

/** How the server must react: dropped as malformed, dropped for another reason, or answered with NAK. */
export type Expect = 'malformed' | 'dropped' | 'nak';

export interface Hostile {
  name: string;
  bytes: Buffer;
  expect: Expect;
  /** Drop category for 'dropped'. */
  category?: string;
}

const MAC = '02:00:00:00:66:01';
function base(): Buffer {
  return serializeDhcpPacket(clientPacket(M.DISCOVER, MAC));
}
function withOptions(raw: number[], type: number = M.DISCOVER): Buffer {
  const p = clientPacket(type, MAC);
  p.options.clear();
  const head = serializeDhcpPacket(p).subarray(0, 240);
  return Buffer.concat([head, Buffer.from(raw)]);
}
function edit(fn: (b: Buffer) => void): Buffer {
  const b = base();
  fn(b);
  return b;
}

/**
 * 40 hostile or broken datagrams. The first group is malformed at the wire level (dropped + counted
 * as `malformed`); the rest are well-formed but wrong (answered or dropped per RFC 2131).
 * `victim` is an address some other client holds (for DECLINE/RELEASE spoofing).
 */
export function hostileInputs(victim: string): Hostile[] {
  const list: Hostile[] = [
    { name: 'empty datagram', bytes: Buffer.alloc(0), expect: 'malformed' },
    { name: 'one byte', bytes: Buffer.from([1]), expect: 'malformed' },
    { name: 'truncated header (100 bytes)', bytes: base().subarray(0, 100), expect: 'malformed' },
    { name: 'header without cookie (236 bytes)', bytes: base().subarray(0, 236), expect: 'malformed' },
    { name: 'bad magic cookie', bytes: edit((b) => b.writeUInt32BE(0xdeadbeef, 236)), expect: 'malformed' },
    { name: 'op 0', bytes: edit((b) => (b[0] = 0)), expect: 'malformed' },
    { name: 'op 7', bytes: edit((b) => (b[0] = 7)), expect: 'malformed' },
    { name: 'hlen 17', bytes: edit((b) => (b[2] = 17)), expect: 'malformed' },
    { name: 'hlen 255', bytes: edit((b) => (b[2] = 255)), expect: 'malformed' },
    { name: 'hlen 0', bytes: edit((b) => (b[2] = 0)), expect: 'malformed' },
    { name: 'ethernet with hlen 4', bytes: edit((b) => (b[2] = 4)), expect: 'malformed' },
    { name: 'option length past the end', bytes: withOptions([53, 1, 1, 12, 200, 0x41]), expect: 'malformed' },
    { name: 'option code without length byte', bytes: withOptions([53, 1, 1, 12]), expect: 'malformed' },
    { name: 'message type zero-length', bytes: withOptions([53, 0, 255]), expect: 'malformed' },
    { name: 'message type two bytes', bytes: withOptions([53, 2, 1, 1, 255]), expect: 'malformed' },
    { name: 'message type 0', bytes: withOptions([53, 1, 0, 255]), expect: 'malformed' },
    { name: 'message type 200', bytes: withOptions([53, 1, 200, 255]), expect: 'malformed' },
    { name: 'overload value 0', bytes: withOptions([53, 1, 1, 52, 1, 0, 255]), expect: 'malformed' },
    { name: 'overload value 9', bytes: withOptions([53, 1, 1, 52, 1, 9, 255]), expect: 'malformed' },
    { name: 'overload with 2-byte length', bytes: withOptions([53, 1, 1, 52, 2, 1, 1, 255]), expect: 'malformed' },
    { name: 'overload twice', bytes: withOptions([53, 1, 1, 52, 1, 1, 52, 1, 2, 255]), expect: 'malformed' },
    {
      name: 'overload loop: option 52 inside the file field',
      bytes: (() => {
        const b = withOptions([53, 1, 1, 52, 1, 1, 255]);
        Buffer.from([52, 1, 3, 255]).copy(b, 108);
        return b;
      })(),
      expect: 'malformed',
    },
    {
      name: 'overload: option in file runs past the field',
      bytes: (() => {
        const b = withOptions([53, 1, 1, 52, 1, 1, 255]);
        Buffer.from([12, 200, 0x41]).copy(b, 230);
        return b;
      })(),
      expect: 'malformed',
    },
    { name: 'server id with 3 bytes (REQUEST)', bytes: withOptions([53, 1, 3, 54, 3, 198, 18, 1, 50, 4, 198, 18, 1, 120, 255], M.REQUEST), expect: 'malformed' },
    { name: 'requested ip zero-length (REQUEST)', bytes: withOptions([53, 1, 3, 50, 0, 255], M.REQUEST), expect: 'malformed' },
    { name: 'relay agent info (82) zero-length', bytes: withOptions([53, 1, 1, 82, 0, 255]), expect: 'malformed' },
    { name: 'relay agent sub-option past the end', bytes: withOptions([53, 1, 1, 82, 3, 1, 5, 0, 255]), expect: 'malformed' },
    { name: 'REQUEST without option 50 in SELECTING', bytes: withOptions([53, 1, 3, 54, 4, 198, 18, 1, 1, 255], M.REQUEST), expect: 'malformed' },
    { name: 'DECLINE without option 50', bytes: withOptions([53, 1, 4, 54, 4, 198, 18, 1, 1, 255], M.DECLINE), expect: 'malformed' },
    { name: 'RELEASE without ciaddr', bytes: withOptions([53, 1, 7, 54, 4, 198, 18, 1, 1, 255], M.RELEASE), expect: 'malformed' },
    { name: 'BOOTREPLY sent to the server', bytes: edit((b) => (b[0] = 2)), expect: 'dropped', category: 'not-for-us' },
    { name: 'OFFER sent to the server', bytes: withOptions([53, 1, 2, 255]), expect: 'dropped', category: 'not-for-us' },
    { name: 'plain BOOTP (no option 53)', bytes: withOptions([12, 3, 0x61, 0x62, 0x63, 255]), expect: 'dropped', category: 'unsupported' },
    { name: 'giaddr spoofed by a client (from port 68)', bytes: edit((b) => Buffer.from([198, 18, 2, 2]).copy(b, 24)), expect: 'dropped', category: 'spoofed' },
    {
      name: 'REQUEST for an address outside the pool',
      bytes: serializeDhcpPacket(clientPacket(M.REQUEST, MAC, { options: { requestedIp: '198.18.1.20' } })),
      expect: 'nak',
    },
    {
      name: 'REQUEST for another network',
      bytes: serializeDhcpPacket(clientPacket(M.REQUEST, MAC, { options: { requestedIp: '10.9.8.7' } })),
      expect: 'nak',
    },
    {
      name: 'REQUEST with a wrong server identifier',
      bytes: serializeDhcpPacket(clientPacket(M.REQUEST, MAC, { options: { serverId: '198.18.1.254', requestedIp: '198.18.1.120' } })),
      expect: 'dropped',
      category: 'not-for-us',
    },
    {
      name: "DECLINE of someone else's lease",
      bytes: serializeDhcpPacket(clientPacket(M.DECLINE, MAC, { options: { serverId: '198.18.1.1', requestedIp: victim } })),
      expect: 'dropped',
      category: 'not-owner',
    },
    {
      name: "RELEASE of someone else's lease",
      bytes: serializeDhcpPacket(clientPacket(M.RELEASE, MAC, { ciaddr: victim, options: { serverId: '198.18.1.1' } })),
      expect: 'dropped',
      category: 'not-owner',
    },
  ];
  // zero-length hostname is tolerated (it is read lazily and ignored when malformed)
  const p = clientPacket(M.DISCOVER, '02:00:00:00:66:02');
  setOption(p, 'hostname', undefined);
  p.options.set(12, Buffer.alloc(0));
  list.push({ name: 'zero-length hostname (answered, option ignored)', bytes: serializeDhcpPacket(p), expect: 'dropped', category: 'answered' });
  return list;
}
