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

