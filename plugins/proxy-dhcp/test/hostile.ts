import { captured, craft } from './helpers';

/** Option area offset: 236-byte BOOTP header + 4-byte cookie. */
const OPTS = 240;

function withOptions(raw: string): Buffer {
  const base = Buffer.from(craft({ arch: 7 }));
  return Buffer.concat([base.subarray(0, OPTS), Buffer.from(raw, 'hex')]);
}

function patched(at: number, bytes: number[]): Buffer {
  const b = Buffer.from(craft({ arch: 7 }));
  bytes.forEach((v, i) => (b[at + i] = v));
  return b;
}

const pxe60 = Buffer.from('PXEClient:Arch:00007').toString('hex');

/**
 * Hostile and malformed datagrams (the DHCP issue's list, as they apply to a proxy): each must be
 * dropped without an answer and without an exception. `category` is what packetDropped reports.
 */
export const HOSTILE: Array<{ name: string; data: () => Buffer; category: string }> = [
  { name: 'empty datagram', data: () => Buffer.alloc(0), category: 'malformed' },
  { name: 'one byte', data: () => Buffer.from([1]), category: 'malformed' },
  { name: 'truncated inside the BOOTP header', data: () => craft({ arch: 7 }).subarray(0, 100), category: 'malformed' },
  { name: 'truncated inside the magic cookie', data: () => craft({ arch: 7 }).subarray(0, 238), category: 'malformed' },
  { name: 'bad magic cookie', data: () => patched(236, [0x63, 0x82, 0x53, 0x00]), category: 'malformed' },
  { name: 'op = 3', data: () => patched(0, [3]), category: 'malformed' },
  { name: 'hlen 17', data: () => patched(2, [17]), category: 'malformed' },
  { name: 'option length runs past the end', data: () => withOptions(`350101` + `3c40` + pxe60), category: 'malformed' },
  { name: 'option code without a length byte', data: () => withOptions('3501015d'), category: 'malformed' },
  { name: 'option 53 of two bytes', data: () => withOptions(`35020101` + `3c14${pxe60}ff`), category: 'malformed' },
  { name: 'overload (52) pointing at a file field that overloads again', data: () => {
      const b = withOptions(`350101` + `340103` + `3c14${pxe60}ff`);
      b.fill(0, 44, 236);
      b[108] = 52; b[109] = 1; b[110] = 3; b[111] = 255; // file area: overload again
      b[44] = 255;
      return b;
    }, category: 'any-drop' },
  { name: 'overload value 7', data: () => withOptions(`350101` + `340107` + `3c14${pxe60}ff`), category: 'malformed' },
  { name: 'BOOTREPLY (an OFFER from another server) on port 67', data: () => patched(0, [2]), category: 'not-for-us' },
  { name: 'plain BOOTP (no option 53)', data: () => withOptions(`3c14${pxe60}ff`), category: 'not-for-us' },
  { name: 'zero-length option 60', data: () => withOptions('3501013c00ff'), category: 'not-for-us' },
  { name: 'zero-length option 93 and no arch in option 60', data: () => withOptions('3501015d003c09505845436c69656e74ff'), category: 'policy' },
  { name: 'odd-length option 93', data: () => withOptions(`3501015d0300073c14${pxe60}ff`), category: 'none-or-answer' },
  { name: 'garbage user class and a broken option 175', data: () => withOptions(`3501014dff4141af05b10901ff3c14${pxe60}ff`), category: 'none-or-answer' },
  { name: 'DECLINE from a PXE client', data: () => craft({ arch: 7, type: 4 }), category: 'not-for-us' },
  { name: 'RELEASE from a PXE client', data: () => craft({ arch: 7, type: 7 }), category: 'not-for-us' },
  { name: 'unknown message type 200', data: () => craft({ arch: 7, type: 200 }), category: 'not-for-us' },
  { name: 'dhclient DISCOVER (not PXE)', data: () => captured('dhclient-discover'), category: 'not-for-us' },
  { name: 'giaddr spoofed to broadcast', data: () => craft({ arch: 7, giaddr: '255.255.255.255' }), category: 'malformed' },
  { name: 'giaddr spoofed to loopback', data: () => craft({ arch: 7, giaddr: '127.0.0.1' }), category: 'malformed' },
  { name: 'giaddr spoofed to multicast', data: () => craft({ arch: 7, giaddr: '224.0.0.1' }), category: 'malformed' },
  { name: '64 KiB of 0xff', data: () => Buffer.alloc(65000, 0xff), category: 'malformed' },
  { name: 'a valid header followed by 2000 PAD bytes and no END', data: () => Buffer.concat([craft({ arch: 7 }).subarray(0, OPTS), Buffer.from(`350101`, 'hex'), Buffer.alloc(2000)]), category: 'any-drop' },
  { name: 'option 60 of 255 bytes repeated (RFC 3396 concatenation to 1 KiB)', data: () => withOptions(`350101` + ('3cff' + '41'.repeat(255)).repeat(4) + 'ff'), category: 'not-for-us' },
];

/** For tests that want a packet shaped like a real exchange after the hostile set. */
export function validDiscover(): Buffer {
  return craft({ arch: 7, mac: '52:54:00:aa:bb:77' });
}
