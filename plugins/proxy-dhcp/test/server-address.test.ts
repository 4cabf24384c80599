import type os from 'node:os';
import { expect } from 'chai';
import { resolveServerAddress } from '../src/server-address';

type Ifaces = ReturnType<typeof os.networkInterfaces>;
const v4 = (address: string, cidr: string, internal = false) => ({ address, cidr, family: 'IPv4' as const, internal, netmask: '', mac: '00:00:00:00:00:00' });
const IFACES: Ifaces = {
  lo: [v4('127.0.0.1', '127.0.0.1/8', true)],
  eth0: [v4('198.18.9.5', '198.18.9.5/24')],
  br0: [v4('198.18.100.1', '198.18.100.1/23')],
};

describe('proxy-dhcp: server address', () => {
  it('server address: configured, else the interface, else the first non-loopback; PB_ERR_PROXY_CONFIG when none', () => {
    expect(resolveServerAddress({ serverAddress: '198.18.3.1', address: '0.0.0.0' }, IFACES)).to.equal('198.18.3.1');
    expect(resolveServerAddress({ interface: 'br0', address: '0.0.0.0' }, IFACES)).to.equal('198.18.100.1');
    expect(resolveServerAddress({ address: '0.0.0.0' }, IFACES)).to.equal('198.18.9.5');
    expect(() => resolveServerAddress({ interface: 'nope0', address: '0.0.0.0' }, IFACES)).to.throw().with.property('code', 'PB_ERR_PROXY_CONFIG');
    expect(() => resolveServerAddress({ address: '0.0.0.0' }, { lo: IFACES.lo })).to.throw().with.property('code', 'PB_ERR_PROXY_CONFIG');
  });
});
