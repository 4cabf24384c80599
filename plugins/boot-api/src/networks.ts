import net from 'node:net';

/** Client networks allowed on the boot endpoints (IPv4/IPv6 CIDRs); empty = everyone. */
export class ClientNetworks {
  private readonly list = new net.BlockList();
  readonly any: boolean;

  constructor(cidrs: string[]) {
    this.any = cidrs.length === 0;
    for (const c of cidrs) {
      const [addr, bits] = c.split('/');
      const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      this.list.addSubnet(addr, Number(bits ?? (type === 'ipv4' ? 32 : 128)), type);
    }
  }

  static problems(cidrs: string[]): string[] {
    const out: string[] = [];
    for (const c of cidrs) {
      const [addr, bits, extra] = c.split('/');
      const max = net.isIPv4(addr) ? 32 : net.isIPv6(addr) ? 128 : -1;
      if (max < 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) out.push(`"${c}" is not an address or CIDR network`);
    }
    return out;
  }

  allows(address: string | undefined): boolean {
    if (this.any) return true;
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const a = mapped ? mapped[1] : address;
    return this.list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  }
}
