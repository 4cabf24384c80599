import dgram from 'node:dgram';
import { expect } from 'chai';
import { requireRoot } from '@pureboot/core/testing';
import { UdpTransport } from '../../src/transport/udp';

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('dhcp UDP transport', () => {
  it('moves datagrams both ways on a wildcard socket', async () => {
    const port = await freePort();
    const t = new UdpTransport({ listen: [{ address: '127.0.0.1' }], port, plugin: 'dhcp' });
    const got: Buffer[] = [];
    await t.start((m) => {
      got.push(m.data);
      void t.send(m.listen, Buffer.from('pong'), m.from);
    });
    const c = dgram.createSocket('udp4');
    try {
      const reply = new Promise<Buffer>((r) => c.once('message', (d) => r(d)));
      c.send(Buffer.from('ping'), port, '127.0.0.1');
      expect((await reply).toString()).to.equal('pong');
      expect(got.map(String)).to.deep.equal(['ping']);
    } finally {
      c.close();
      await t.stop();
    }
  });

  it('a port held by another program is reported with the core bind error (PB_ERR_PORT_IN_USE)', async () => {
    const port = await freePort();
    const holder = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((r) => holder.bind(port, '0.0.0.0', () => r()));
    const t = new UdpTransport({ listen: [{ address: '127.0.0.1' }], port, plugin: 'dhcp' });
    try {
      let err: (Error & { code?: string }) | undefined;
      await t.start(() => undefined).catch((e: Error) => (err = e));
      expect(err?.code).to.equal('PB_ERR_PORT_IN_USE');
      expect(err?.message).to.include('dhcp.port');
    } finally {
      holder.close();
      await t.stop();
    }
  });

  it('an interface that does not exist fails with PB_ERR_DHCP_BIND_DEVICE', async function () {
    requireRoot(this);
    const port = await freePort();
    const t = new UdpTransport({ listen: [{ interface: 'pbnosuch0', address: '127.0.0.1' }], port, plugin: 'dhcp' });
    let err: (Error & { code?: string }) | undefined;
    await t.start(() => undefined).catch((e: Error) => (err = e));
    expect(err?.code).to.equal('PB_ERR_DHCP_BIND_DEVICE');
    await t.stop();
  });
});
