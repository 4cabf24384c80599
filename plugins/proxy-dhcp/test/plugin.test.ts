import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { notify, Pureboot, createLogger, type ResolvedConfig } from '@pureboot/core';
import plugin, { ProxyDhcpServer, type ProxyDhcpHandler } from '../src/index';
import { craft, decode } from './helpers';
import { HOSTILE } from './hostile';

// Loopback ports of this suite (distinct from other suites; SO_REUSEADDR would let two suites share one silently).
const PORT = 40367;
const BOOT_PORT = 40311;
const MAC = '52:54:00:0c:0d:0e';

function request(port: number, data: Buffer, timeoutMs = 1500): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => s.send(data, port, '127.0.0.1'));
  });
}

describe('proxy-dhcp: the plugin in a PureBoot kernel (loopback sockets)', function () {
  let pb: Pureboot;
  let dataDir: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-proxy-'));
    pb = await Pureboot.create({
      config: {
        plugins: ['proxy-dhcp'],
        server: { dataDir, logLevel: 'silent' },
        'proxy-dhcp': { address: '127.0.0.1', port: PORT, bootServerPort: BOOT_PORT, serverAddress: '127.0.0.1', ipxeDetection: 'after-tftp' },
      },
    });
    await pb.start();
  });
  after(async () => {
    await pb?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("after-tftp: an iPXE 4011 request gets the binary until the TFTP plugin's tftp.done for its MAC, then the script URL", async () => {
    const ipxeReq = craft({ arch: 0, type: 3, mac: MAC, userClass: 'iPXE', ciaddr: '127.0.0.1' });
    const first = await request(BOOT_PORT, ipxeReq);
    expect(first && decode(first).file).to.equal('bios/undionly.kpxe');
    await notify(pb.hooks.bootEvent, { mac: MAC, address: '127.0.0.1', at: Date.now(), source: 'tftp', kind: 'tftp.done', detail: { path: 'bios/undionly.kpxe' } }, pb.logger);
    const second = await request(BOOT_PORT, ipxeReq);
    expect(second && decode(second).file).to.equal('http://127.0.0.1:8080/api/v1/ipxe/boot.ipxe');
    // Another MAC is not affected.
    const other = await request(BOOT_PORT, craft({ arch: 0, type: 3, mac: '52:54:00:0c:0d:0f', userClass: 'iPXE', ciaddr: '127.0.0.1' }));
    expect(other && decode(other).file).to.equal('bios/undionly.kpxe');
  });

  it('the hostile set over a real socket: nothing answered, all counted, and the next 4011 request is answered', async () => {
    const s = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    s.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const sendable = HOSTILE.filter((h) => h.data().length > 0 && h.data().length < 60000);
    for (const h of sendable) await new Promise<void>((r, j) => s.send(h.data(), BOOT_PORT, '127.0.0.1', (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 500));
    s.close();
    const mayAnswer = sendable.filter((h) => h.category === 'none-or-answer').length;
    expect(replies.length, 'only the tolerable ones may be answered').to.be.at.most(mayAnswer);
    const m = await pb.container.resolve('metrics').getSingleMetric('pureboot_proxy_dhcp_dropped_total')?.get();
    const total = (m?.values ?? []).reduce((a, v) => a + v.value, 0);
    expect(total).to.be.greaterThan(15);
    const ok = await request(BOOT_PORT, craft({ arch: 7, type: 3, mac: MAC, ciaddr: '127.0.0.1' }));
    expect(ok && decode(ok).file).to.equal('uefi/snponly.efi');
  });

  it('a port taken by a socket without SO_REUSEADDR → PB_ERR_PORT_IN_USE naming the option to change', async () => {
    const blocker = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((r) => blocker.bind(40366, '127.0.0.1', () => r()));
    const server = new ProxyDhcpServer({} as ProxyDhcpHandler, { address: '127.0.0.1', port: 40366, bootServerPort: 40310 }, createLogger('silent'));
    try {
      await server.start();
      expect.fail('start should fail');
    } catch (err) {
      expect((err as { code?: string }).code).to.equal('PB_ERR_PORT_IN_USE');
      expect((err as Error).message).to.contain('proxy-dhcp.port');
    } finally {
      await server.stop();
      blocker.close();
    }
  });

  it('an interface that does not exist → PB_ERR_PROXY_BIND_DEVICE, and nothing stays bound', async () => {
    const server = new ProxyDhcpServer({} as ProxyDhcpHandler, { address: '127.0.0.1', port: 40365, bootServerPort: 40309, interface: 'pbnope0' }, createLogger('silent'));
    try {
      await server.start();
      expect.fail('start should fail');
    } catch (err) {
      expect((err as { code?: string }).code).to.equal('PB_ERR_PROXY_BIND_DEVICE');
    } finally {
      await server.stop();
    }
    const probe = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(40365, '127.0.0.1', () => resolve());
    });
    probe.close();
  });

  it('config check: warns when the full DHCP plugin serves the same interface (or no interface is set)', () => {
    const check = plugin.check as NonNullable<typeof plugin.check>;
    const base = { plugins: ['dhcp', 'proxy-dhcp'], config: { dhcp: { interfaces: ['eth0'] } } as unknown as ResolvedConfig };
    const opts = (i?: string) => ({ interface: i }) as never;
    expect(check({ ...base, options: opts('eth0') })).to.have.length(1);
    expect(check({ ...base, options: opts() })[0]).to.contain('without proxy-dhcp.interface');
    expect(check({ ...base, options: opts('eth1') })).to.deep.equal([]);
    expect(check({ ...base, plugins: ['proxy-dhcp'], options: opts('eth0') })).to.deep.equal([]);
    // The DHCP plugin's real shape: listen[].interface; with its PXE answers off the pairing is fine.
    const real = (pxe: boolean) => ({ ...base, config: { dhcp: { listen: [{ interface: 'br0', address: '198.18.3.1' }], pxe: { enabled: pxe } } } as unknown as ResolvedConfig });
    expect(check({ ...real(true), options: opts('br0') })).to.have.length(1);
    expect(check({ ...real(true), options: opts('br1') })).to.deep.equal([]);
    expect(check({ ...real(false), options: opts('br0') })).to.deep.equal([]);
  });
});
