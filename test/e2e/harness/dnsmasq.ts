import type { RunningProcess } from '@pureboot/core/testing';
import { NET, type CaseNetwork } from './network';

/**
 * dnsmasq as the site's address-only DHCP server (proxy cases): it hands out addresses from the
 * pool and nothing about booting; DNS is off. It runs in its own namespace joined to the bridge.
 */
export async function startAddressOnlyDhcp(net: CaseNetwork, leaseFile: string): Promise<RunningProcess> {
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
  ]);
  await p.waitFor(/DHCP, IP range/, 10000);
  return p;
}
