import os from 'node:os';
import { ProxyDhcpError, ProxyDhcpErrorCodes } from './errors';

/**
 * Our address for option 54 / siaddr / URLs: the configured one, else the first IPv4 address of
 * the configured interface, else of the first non-loopback interface.
 */
export function resolveServerAddress(o: { serverAddress?: string; interface?: string; address: string }, interfaces = os.networkInterfaces()): string {
  if (o.serverAddress) return o.serverAddress;
  if (o.address !== '0.0.0.0') return o.address;
  const v4 = (name: string) => (interfaces[name] ?? []).find((a) => a.family === 'IPv4')?.address;
  if (o.interface) {
    const a = v4(o.interface);
    if (a) return a;
    throw new ProxyDhcpError(ProxyDhcpErrorCodes.CONFIG, `proxy-dhcp: interface ${o.interface} has no IPv4 address; set proxy-dhcp.serverAddress`, { interface: o.interface });
  }
  for (const [name, addrs] of Object.entries(interfaces)) {
    const a = (addrs ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
    void name;
  }
  throw new ProxyDhcpError(ProxyDhcpErrorCodes.CONFIG, 'proxy-dhcp: no IPv4 address found on this host; set proxy-dhcp.serverAddress');
}

/** Directed broadcast of `cidr` (`198.18.3.1/24` → `198.18.3.255`). */
export function directedBroadcast(cidr: string): string {
  const [ip, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const n = ip.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
  const host = bits >= 32 ? 0 : 0xffffffff >>> bits;
  const b = (n | host) >>> 0;
  return [24, 16, 8, 0].map((s) => (b >>> s) & 0xff).join('.');
}

/**
 * Where broadcast answers go. Linux routes 255.255.255.255 like any destination: on a provisioning
 * LAN without a default route that is ENETUNREACH, and on a multi-homed host it leaves by the default
 * route's interface. The directed broadcast of the serving interface's subnet (the one holding
 * serverAddress, or `interface`'s first IPv4 subnet) leaves on that interface as an Ethernet
 * broadcast, which PXE ROMs and iPXE accept before they have an address. Falls back to 255.255.255.255.
 */
export function resolveBroadcastAddress(o: { broadcastAddress?: string; interface?: string }, serverAddress: string, interfaces = os.networkInterfaces()): string {
  if (o.broadcastAddress) return o.broadcastAddress;
  const candidates = o.interface ? [interfaces[o.interface] ?? []] : Object.values(interfaces).map((a) => a ?? []);
  for (const addrs of candidates) {
    const hit = addrs.find((a) => a.family === 'IPv4' && a.address === serverAddress) ?? (o.interface ? addrs.find((a) => a.family === 'IPv4' && !a.internal) : undefined);
    if (hit?.cidr && !hit.internal) return directedBroadcast(hit.cidr);
  }
  return '255.255.255.255';
}
