import dns from 'node:dns';
import net from 'node:net';
import { isIPv4 } from './is-ipv4';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A `lookup` for dgram sockets that send to IP literals (DHCP, TFTP replies go to the address a
 * datagram came from). Node's default runs dns.lookup for every send, which answers a literal only
 * on the next tick; this one answers at once and falls back to dns.lookup for a name.
 */
export function literalLookup(hostname: string, options: dns.LookupOneOptions | number, callback: LookupCallback): void {
  const family = isIPv4(hostname) ? 4 : net.isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}
