import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { NetLab, purebootArgv, requireRoot, requireTools, type RunningProcess } from '@pureboot/core/testing';
import { craft } from './helpers';

/**
 * Proxy DHCP beside a real DHCP server: dnsmasq hands out addresses (and no boot options) in the
 * server namespace; PureBoot's proxy shares port 67 with it there and also listens on 4011.
 * Clients in a second namespace: crafted PXE requests (scapy, raw, from 0.0.0.0), busybox udhcpc.
 * Addresses: 198.18.3.0/24 only.
 */
const SERVER_IP = '198.18.3.1';
const SITE_IP = '198.18.3.2';
const CLIENT_IP = '198.18.3.60';
const PY = '/usr/bin/python3';
const CLIENT_PY = path.join(__dirname, 'fixtures', 'pxe_client.py');

interface Reply {
  op: number;
  xid: number;
  src: string;
  dst?: string;
  dport: number;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: string;
  file: string;
  options: Record<string, unknown>;
}

function parseReplies(stdout: string): Reply[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Reply);
}

let dir = '';
/** dnsmasq as a site DHCP server: DNS off, addresses only, bound to its interface (SO_REUSEADDR). */
function dnsmasqArgv(iface: string, range: string, tag: string): string[] {
  return [
    'dnsmasq',
    '--conf-file=/dev/null',
    '--port=0',
    '--no-daemon',
    '--no-ping',
    '--log-dhcp',
    '--bind-interfaces',
    `--interface=${iface}`,
    `--dhcp-range=${range},255.255.255.0,1h`,
    `--dhcp-leasefile=${path.join(dir, `${tag}.leases`)}`,
    `--pid-file=${path.join(dir, `${tag}.pid`)}`,
  ];
}

const isProxy = (r: Reply) => r.yiaddr === '0.0.0.0' && r.options.vendor_class_id === 'PXEClient';

describe('proxy-dhcp: beside dnsmasq in network namespaces (real sockets, real clients)', function () {
  this.timeout(60000);
  let lab: NetLab;
  let proxy: RunningProcess;

  before(async function () {
    requireRoot(this);
    requireTools(this, ['ip', 'dnsmasq', 'busybox', PY]);
    const scapy = await import('node:child_process').then((cp) => cp.spawnSync(PY, ['-c', 'import scapy.all'], { timeout: 20000 }));
    if (scapy.status !== 0) requireTools(this, ['python3-scapy (import scapy.all)']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-proxy-ns-'));
    lab = new NetLab();
    await lab.addNamespace('srv');
    await lab.addNamespace('site');
    await lab.addNamespace('cli');
    // One LAN: a bridge in the PureBoot host's namespace; the site's DHCP server and the client hang off it.
    await lab.bridge('srv', 'br0', `${SERVER_IP}/24`);
    await lab.veth({ ns: 'srv', ifname: 'pxs' }, { ns: 'site', ifname: 'st0', cidr: `${SITE_IP}/24` });
    await lab.veth({ ns: 'srv', ifname: 'pxc' }, { ns: 'cli', ifname: 'px1' });
    await lab.exec('srv', ['ip', 'link', 'set', 'pxs', 'master', 'br0']);
    await lab.exec('srv', ['ip', 'link', 'set', 'pxc', 'master', 'br0']);
    // The site's DHCP server: addresses only, no boot options.
    const dnsmasq = lab.spawn('site', dnsmasqArgv('st0', '198.18.3.100,198.18.3.150', 'site'));
    await dnsmasq.waitFor(/DHCP, sockets bound exclusively to interface st0/, 10000);
    const config = {
      plugins: ['proxy-dhcp'],
      server: { dataDir: path.join(dir, 'var'), logLevel: 'info' },
      'proxy-dhcp': { serverAddress: SERVER_IP, uefiStrategy: 'discovery-control', rules: [{ name: 'boot-server-nic', match: { macPrefix: '52:54:00:bb' }, uefiStrategy: 'boot-server' }] },
    };
    fs.writeFileSync(path.join(dir, 'pureboot.config.json'), JSON.stringify(config));
    proxy = lab.spawn('srv', purebootArgv(['start', '--config', path.join(dir, 'pureboot.config.json')]), { cwd: path.resolve(__dirname, '..', '..', '..') });
    await proxy.waitFor(/PureBoot .* running/, 30000);
  });

  after(async () => {
    await lab?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('PXE DISCOVERs (BIOS, UEFI x86-64, arm64) get the dnsmasq offer AND the proxy offer with yiaddr 0 and the right boot file', async () => {
    const clients = [
      { mac: '52:54:00:aa:00:01', xid: 0x1001, arch: 0, file: 'bios/undionly.kpxe' },
      { mac: '52:54:00:aa:00:07', xid: 0x1007, arch: 7, file: 'uefi/snponly.efi' },
      { mac: '52:54:00:aa:00:0b', xid: 0x100b, arch: 11, file: 'uefi/arm64/snp.efi' },
    ];
    const hexes = clients.map((c) => craft({ mac: c.mac, xid: c.xid, arch: c.arch, uuid: '00' + 'ab'.repeat(16) }).toString('hex'));
    const r = await lab.exec('cli', [PY, CLIENT_PY, 'raw', 'px1', '3', ...hexes], { timeoutMs: 30000 });
    const replies = parseReplies(r.stdout).filter((x) => x.op === 2);
    for (const c of clients) {
      const mine = replies.filter((x) => x.xid === c.xid);
      const fromDnsmasq = mine.filter((x) => x.yiaddr !== '0.0.0.0');
      const fromProxy = mine.filter(isProxy);
      expect(fromDnsmasq, `dnsmasq offer for arch ${c.arch}: ${r.stdout}`).to.have.length.at.least(1);
      expect(fromDnsmasq[0].file, 'dnsmasq gives no boot file').to.equal('');
      expect(fromDnsmasq[0].options.server_id).to.equal(SITE_IP);
      expect(fromProxy, `one proxy offer for arch ${c.arch}; proxy log:\n${proxy.stdout()}${proxy.stderr()}`).to.have.length(1);
      const p = fromProxy[0];
      expect(p.options['message-type']).to.equal(2);
      expect(p.options.server_id).to.equal(SERVER_IP);
      expect(p.siaddr).to.equal(SERVER_IP);
      expect(p.file).to.equal(c.file);
      expect(p.options.vendor_specific).to.equal('060108ff');
      expect(p.options.pxe_client_machine_identifier).to.equal('00' + 'ab'.repeat(16));
      expect(p.chaddr).to.equal(c.mac.replace(/:/g, ''));
      // Limited broadcast (EDK2 ignores directed ones), sent although the namespace has no default route.
      expect(p.dst).to.equal('255.255.255.255');
    }
  });

  it("a client rule's boot-server strategy: UEFI offer without file and option 43, then the 4011 REQUEST gets an ACK with the file", async () => {
    await lab.exec('cli', ['ip', 'addr', 'replace', `${CLIENT_IP}/24`, 'dev', 'px1']);
    const mac = '52:54:00:bb:00:07';
    const offer = await lab.exec('cli', [PY, CLIENT_PY, 'raw', 'px1', '2', craft({ mac, xid: 0x2007, arch: 7 }).toString('hex')], { timeoutMs: 30000 });
    const proxyOffer = parseReplies(offer.stdout).filter((x) => x.xid === 0x2007 && isProxy(x));
    expect(proxyOffer).to.have.length(1);
    expect(proxyOffer[0].file).to.equal('');
    expect(proxyOffer[0].options.vendor_specific).to.equal(undefined);
    const req = craft({ mac, xid: 0x2008, arch: 7, type: 3, ciaddr: CLIENT_IP, flags: 0 }).toString('hex');
    const ack = await lab.exec('cli', [PY, CLIENT_PY, 'udp', CLIENT_IP, '68', SERVER_IP, '4011', '2', req], { timeoutMs: 30000 });
    const acks = parseReplies(ack.stdout);
    expect(acks, ack.stdout + ack.stderr).to.have.length(1);
    expect(acks[0]).to.include({ src: SERVER_IP, yiaddr: '0.0.0.0', file: 'uefi/snponly.efi', siaddr: SERVER_IP });
    expect(acks[0].options['message-type']).to.equal(5);
    expect(acks[0].options.vendor_class_id).to.equal('PXEClient');
  });

  it('a relayed DISCOVER (giaddr set) is answered by unicast to giaddr:67', async () => {
    await lab.exec('cli', ['ip', 'addr', 'replace', `${CLIENT_IP}/24`, 'dev', 'px1']);
    const req = craft({ mac: '52:54:00:aa:00:99', xid: 0x3001, arch: 7, giaddr: CLIENT_IP, flags: 0 }).toString('hex');
    const r = await lab.exec('cli', [PY, CLIENT_PY, 'udp', CLIENT_IP, '67', SERVER_IP, '67', '2', req], { timeoutMs: 30000 });
    const proxyReplies = parseReplies(r.stdout).filter(isProxy);
    expect(proxyReplies, r.stdout + r.stderr).to.have.length(1);
    expect(proxyReplies[0]).to.include({ giaddr: CLIENT_IP, dport: 67, file: 'uefi/snponly.efi' });
  });

  it('shares port 67 with a DHCP server on the same host: dnsmasq binds beside the running proxy, a PXE client hears both', async () => {
    const local = lab.spawn('srv', dnsmasqArgv('br0', '198.18.3.200,198.18.3.210', 'local'));
    try {
      await local.waitFor(/DHCP, sockets bound exclusively to interface br0/, 10000);
      const r = await lab.exec('cli', [PY, CLIENT_PY, 'raw', 'px1', '2', craft({ mac: '52:54:00:aa:00:42', xid: 0x4001, arch: 0 }).toString('hex')], { timeoutMs: 30000 });
      const mine = parseReplies(r.stdout).filter((x) => x.xid === 0x4001);
      expect(mine.filter(isProxy).map((x) => x.file), r.stdout).to.deep.equal(['bios/undionly.kpxe']);
      expect(mine.some((x) => /^198\.18\.3\.2\d\d$/.test(x.yiaddr)), 'an offer from the dnsmasq on the proxy host').to.equal(true);
      // Unicasts to the host's address still reach the local DHCP server (ours is not device-bound, so
      // its device-bound socket wins): a DHCPINFORM from an addressed client gets dnsmasq's ACK.
      await lab.exec('cli', ['ip', 'addr', 'replace', `${CLIENT_IP}/24`, 'dev', 'px1']);
      const inform = craft({ mac: '52:54:00:cc:00:01', xid: 0x4003, type: 8, ciaddr: CLIENT_IP, flags: 0 }).toString('hex');
      const u = await lab.exec('cli', [PY, CLIENT_PY, 'udp', CLIENT_IP, '68', SERVER_IP, '67', '2', inform], { timeoutMs: 30000 });
      const acks = parseReplies(u.stdout).filter((x) => x.xid === 0x4003);
      expect(acks.map((x) => [x.options['message-type'], x.options.server_id]), u.stdout + local.stderr()).to.deep.equal([[5, SERVER_IP]]);
    } finally {
      await local.stop('SIGTERM', 3000);
    }
  });

  it('with proxy-dhcp.interface: a second proxy on the site host answers by 255.255.255.255 without a default route', async () => {
    const cfg = path.join(dir, 'site.config.json');
    fs.writeFileSync(cfg, JSON.stringify({ plugins: ['proxy-dhcp'], server: { dataDir: path.join(dir, 'var-site'), logLevel: 'info' }, 'proxy-dhcp': { interface: 'st0', bootFiles: { bios: 'site/bios.kpxe' } } }));
    const second = lab.spawn('site', purebootArgv(['start', '--config', cfg]), { cwd: path.resolve(__dirname, '..', '..', '..') });
    try {
      await second.waitFor(/PureBoot .* running/, 30000);
      const r = await lab.exec('cli', [PY, CLIENT_PY, 'raw', 'px1', '2', craft({ mac: '52:54:00:aa:00:43', xid: 0x4002, arch: 0 }).toString('hex')], { timeoutMs: 30000 });
      const site = parseReplies(r.stdout).filter((x) => x.xid === 0x4002 && isProxy(x) && x.options.server_id === SITE_IP);
      expect(site, r.stdout + second.stderr()).to.have.length(1);
      expect(site[0]).to.include({ dst: '255.255.255.255', siaddr: SITE_IP, file: 'site/bios.kpxe' });
    } finally {
      await second.stop('SIGTERM', 5000);
    }
  });

  it('a non-PXE client (busybox udhcpc) gets its address from dnsmasq and nothing from the proxy', async () => {
    await lab.exec('cli', ['ip', 'addr', 'flush', 'dev', 'px1']);
    const sniffer = lab.spawn('cli', [PY, CLIENT_PY, 'sniff', 'px1', '5']);
    await sniffer.waitFor(/ready/, 20000);
    const u = await lab.exec('cli', ['busybox', 'udhcpc', '-f', '-q', '-n', '-i', 'px1', '-t', '4', '-T', '1', '-s', '/bin/true'], { timeoutMs: 20000, allowFail: true });
    expect(u.code, u.stdout + u.stderr).to.equal(0);
    expect(u.stdout + u.stderr).to.match(/lease of 198\.18\.3\.1\d\d obtained/);
    await sniffer.exited;
    const heard = parseReplies(sniffer.stdout());
    expect(heard.filter((x) => x.yiaddr !== '0.0.0.0'), 'dnsmasq answered udhcpc').to.have.length.at.least(1);
    expect(heard.filter(isProxy), 'the proxy stayed silent').to.deep.equal([]);
    expect(proxy.stdout() + proxy.stderr()).to.not.match(/uncaught|TypeError/i);
  });
});
