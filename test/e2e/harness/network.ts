import { NetLab, type RunningProcess } from '@pureboot/core/testing';

/**
 * The case's network: a server namespace with a bridge (198.18.100.1/24, inside the suite's range 198.18.100.0/22) and a tap for QEMU on it;
 * optionally a second namespace for an address-only DHCP server (dnsmasq, 198.18.100.2/24) joined to
 * the bridge by a veth pair. QEMU runs inside the server namespace so it can open the tap.
 */
export const NET = {
  prefix: 24,
  subnet: '198.18.100.0/24',
  server: '198.18.100.1',
  addressServer: '198.18.100.2',
  poolStart: '198.18.100.100',
  poolEnd: '198.18.100.199',
  netmask: '255.255.255.0',
  bridge: 'br0',
  tap: 'tap0',
} as const;

export class CaseNetwork {
  readonly lab = new NetLab();
  readonly serverNs = 'srv';
  readonly addressNs = 'dhcp';
  private captureProc?: RunningProcess;

  async setup(opts: { addressServerNamespace: boolean }): Promise<void> {
    const { lab } = this;
    await lab.addNamespace(this.serverNs);
    await lab.bridge(this.serverNs, NET.bridge, `${NET.server}/${NET.prefix}`);
    await lab.exec(this.serverNs, ['ip', 'tuntap', 'add', 'dev', NET.tap, 'mode', 'tap']);
    await lab.exec(this.serverNs, ['ip', 'link', 'set', NET.tap, 'master', NET.bridge]);
    await lab.exec(this.serverNs, ['ip', 'link', 'set', NET.tap, 'up']);
    if (opts.addressServerNamespace) {
      await lab.addNamespace(this.addressNs);
      await lab.veth({ ns: this.serverNs, ifname: 'vdhcp' }, { ns: this.addressNs, ifname: 'eth0', cidr: `${NET.addressServer}/${NET.prefix}` });
      await lab.exec(this.serverNs, ['ip', 'link', 'set', 'vdhcp', 'master', NET.bridge]);
    }
  }

  /** Packet capture of the bridge (every frame between the VM and the servers) into a pcap file. */
  async startCapture(pcapFile: string): Promise<void> {
    // -Z root: Debian's tcpdump drops to user tcpdump, which could not write into the artifacts folder.
    this.captureProc = this.lab.spawn(this.serverNs, ['tcpdump', '-i', NET.bridge, '-n', '-U', '-s', '0', '-Z', 'root', '-w', pcapFile]);
    await this.captureProc.waitFor(/listening on/, 10000);
  }

  async stopCapture(): Promise<void> {
    const p = this.captureProc;
    this.captureProc = undefined;
    if (p) await p.stop('SIGINT', 3000);
  }

  async destroy(): Promise<void> {
    await this.stopCapture().catch(() => undefined);
    await this.lab.destroy();
  }
}
