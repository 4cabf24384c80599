import type { RunningProcess } from '@pureboot/core/testing';
import { NET, type CaseNetwork } from './network';

/**
 * dnsmasq as the site's DHCP server, in its own namespace joined to the bridge; DNS is off. Proxy
 * cases: addresses from the pool and nothing about booting. With `bootUrl` (http-only cases) it also
 * names the boot API's chain script as the boot file, the way a site points its own DHCP at PureBoot.
 */
export async function startAddressOnlyDhcp(net: CaseNetwork, leaseFile: string, opts: { bootUrl?: string } = {}): Promise<RunningProcess> {
  const p = net.lab.spawn(net.addressNs, [
    'dnsmasq',
    '--keep-in-foreground',
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--log-dhcp',
    '--log-facility=-',
    '--interface=eth0',
    '--bind-interfaces',
    `--dhcp-range=${NET.poolStart},${NET.poolEnd},${NET.netmask},10m`,
    `--dhcp-leasefile=${leaseFile}`,
    `--pid-file=${leaseFile}.pid`,
    '--user=root',
    ...(opts.bootUrl ? [`--dhcp-boot=${opts.bootUrl}`] : []),
  ]);
  await p.waitFor(/DHCP, IP range/, 10000);
  return p;
}
