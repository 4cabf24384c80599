import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import pino from 'pino';
import { bufferFile, createHooks, notify, Stage, type FileRequest } from '@pureboot/core';
import { serializeRequest } from '../src/codec/packet';
import { DEFAULT_OPTIONS } from '../src/options';
import { TftpServer } from '../src/server/server';
import { makeFile, startTftp, until, type TftpHarness } from './support/harness';
import { RawClient } from './support/raw';
import { tftpGet } from './support/tftp-client';

describe('tftp: policy through hooks (packetReceive, fileResolve, boot events, MAC directory)', function () {
  this.timeout(20000);
  const PORT = 16912;
  let h: TftpHarness;
  let sum: string;
  const seen: FileRequest[] = [];

  before(async () => {
    h = await startTftp({ port: PORT, tftp: { quirks: [{ macPrefix: '52:54:00', blksizeMax: 1024 }] } });
    sum = makeFile(h.root, 'bios/undionly.kpxe', 70000);
    h.k.hooks.packetReceive.tap({ name: 'test:guard', stage: Stage.GUARD }, (ctx) => {
      if (ctx.protocol !== 'tftp') return undefined;
      const p = ctx.packet as { filename?: string };
      if (p.filename === 'blocked.bin') return { drop: true, reason: 'blocked by test policy' };
      if (p.filename === 'explode-receive') throw new Error('tap exploded');
      return undefined;
    });
    h.k.hooks.fileResolve.tapPromise({ name: 'test:generated', stage: Stage.DEFAULT }, async (req) => {
      seen.push(req);
      if (req.path === 'generated/hello.txt') return bufferFile(Buffer.from(`hello ${req.client.mac ?? 'unknown'}\n`), { source: 'test' });
      if (req.path === 'explode-resolve') throw new Error('resolver exploded');
      if (req.path === 'secret.bin') return { status: 'denied', reason: 'test says no' };
      return undefined;
    });
  });
  after(async () => h?.stop());

  it('a packetReceive drop gets no answer and is counted as policy', async () => {
    const c = await RawClient.open();
    try {
      c.send(serializeRequest('RRQ', 'blocked.bin', 'octet'), PORT);
      expect(await c.collect(200)).to.have.length(0);
      await until(() => h.drops.some((d) => d.category === 'policy' && d.reason === 'blocked by test policy'), 2000, 'policy drop');
      expect(await h.metric('pureboot_tftp_dropped_total', { category: 'policy' })).to.equal(1);
    } finally {
      c.close();
    }
  });

  it('a throwing packetReceive or fileResolve tap drops the request as hook-error, never crashes', async () => {
    const c = await RawClient.open();
    try {
      c.send(serializeRequest('RRQ', 'explode-receive', 'octet'), PORT);
      c.send(serializeRequest('RRQ', 'explode-resolve', 'octet'), PORT + 0); // same port: first is done by then? use another client
      expect(await c.collect(200)).to.have.length(0);
      await until(() => h.drops.filter((d) => d.category === 'hook-error').length >= 1, 2000, 'hook-error');
    } finally {
      c.close();
    }
    const c2 = await RawClient.open();
    try {
      c2.send(serializeRequest('RRQ', 'explode-resolve', 'octet'), PORT);
      expect(await c2.collect(200)).to.have.length(0);
      await until(() => h.drops.some((d) => d.category === 'hook-error' && /fileResolve/.test(d.reason)), 2000, 'fileResolve hook-error');
    } finally {
      c2.close();
    }
    const ok = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'bios/undionly.kpxe' });
    expect(ok.sha256).to.equal(sum);
  });

  it('serves generated files from a fileResolve tap and refuses what a tap denies', async () => {
    const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'generated/hello.txt' });
    expect(r.data?.toString()).to.equal('hello unknown\n');
    const d = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'secret.bin' });
    expect(d.error).to.include({ code: 2 });
    await until(() => h.events.some((e) => e.kind === 'tftp.failed' && e.detail.path === 'secret.bin'), 2000, 'tftp.failed');
    expect(h.events.find((e) => e.kind === 'tftp.failed' && e.detail.path === 'secret.bin')?.detail).to.include({ reason: 'denied' });
  });

  it('learns IP → MAC/arch from dhcp.ack boot events: fileResolve sees the MAC, tftp.done is keyed by it, quirks apply', async () => {
    await notify(h.k.hooks.bootEvent, { mac: '52:54:00:12:34:56', at: Date.now(), source: 'dhcp', kind: 'dhcp.ack', detail: { ip: '127.0.0.1', arch: 'bios' } }, h.k.logger);
    const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'bios/undionly.kpxe', blksize: 1468, tsize: true });
    expect(r.sha256).to.equal(sum);
    expect(r.oack?.blksize).to.equal('1024'); // quirk rule for 52:54:00
    expect(seen.at(-1)?.client).to.include({ address: '127.0.0.1', mac: '52:54:00:12:34:56', arch: 'bios' });
    await until(() => h.events.some((e) => e.kind === "tftp.done" && e.mac === "52:54:00:12:34:56"), 2000, "tftp.done with mac");
    const done = h.events.find((e) => e.kind === 'tftp.done' && e.mac === '52:54:00:12:34:56');
    expect(done?.detail).to.include({ mac: '52:54:00:12:34:56', path: 'bios/undionly.kpxe', blksize: 1024 });
    const gen = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'generated/hello.txt' });
    expect(gen.data?.toString()).to.equal('hello 52:54:00:12:34:56\n');
    // proxy.ack with `address` also teaches it; the newest wins.
    await notify(h.k.hooks.bootEvent, { mac: 'aa:bb:cc:dd:ee:ff', at: Date.now(), source: 'proxy-dhcp', kind: 'proxy.ack', detail: { address: '127.0.0.1' } }, h.k.logger);
    expect(h.server.directory.get('127.0.0.1')?.mac).to.equal('aa:bb:cc:dd:ee:ff');
    const r2 = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'bios/undionly.kpxe', blksize: 1468 });
    expect(r2.oack?.blksize).to.equal('1468');
  });

  it('ignores boot events that are not acks or carry no usable MAC/IP', async () => {
    const before = h.server.directory.size;
    await notify(h.k.hooks.bootEvent, { mac: '11:22:33:44:55:66', at: 1, source: 'dhcp', kind: 'dhcp.offer', detail: { ip: '198.18.0.9' } }, h.k.logger);
    await notify(h.k.hooks.bootEvent, { mac: 'nonsense', at: 1, source: 'dhcp', kind: 'dhcp.ack', detail: { ip: '198.18.0.9' } }, h.k.logger);
    await notify(h.k.hooks.bootEvent, { mac: '11:22:33:44:55:66', at: 1, source: 'dhcp', kind: 'dhcp.ack', detail: { ip: 'not-an-ip' } }, h.k.logger);
    expect(h.server.directory.size).to.equal(before);
  });

  it('serves a hot file from memory once loaded, and notices when it changes', async () => {
    const loads = await h.metric('pureboot_tftp_cache_loads_total');
    const hits = await h.metric('pureboot_tftp_cache_hits_total');
    makeFile(h.root, 'hot.bin', 5000);
    const a = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'hot.bin' });
    const b = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'hot.bin' });
    expect(a.sha256).to.equal(b.sha256);
    expect((await h.metric('pureboot_tftp_cache_loads_total')) - loads).to.equal(1);
    expect((await h.metric('pureboot_tftp_cache_hits_total')) - hits).to.equal(1);
    fs.writeFileSync(path.join(h.root, 'hot.bin'), Buffer.alloc(6000, 7));
    const c = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'hot.bin' });
    expect(c.data?.equals(Buffer.alloc(6000, 7))).to.equal(true);
    expect((await h.metric('pureboot_tftp_cache_loads_total')) - loads).to.equal(2);
  });
});

describe('tftp: limits and boot storms', function () {
  this.timeout(40000);

  it('beyond maxTransfers clients get ERROR 0 "server busy" (counted); slots free up again', async () => {
    const h = await startTftp({ port: 16913, tftp: { maxTransfers: 3, maxTransfersPerClient: 100, timeoutMs: 2000 } });
    const holders: RawClient[] = [];
    try {
      makeFile(h.root, 'f.bin', 10000);
      for (let i = 0; i < 3; i++) {
        const c = await RawClient.open();
        holders.push(c);
        c.send(serializeRequest('RRQ', 'f.bin', 'octet'), 16913);
        expect((await c.next())?.packet).to.include({ op: 'DATA', block: 1 });
      }
      const r = await tftpGet({ host: '127.0.0.1', port: 16913, file: 'f.bin' });
      expect(r.error?.code).to.equal(0);
      expect(r.error?.message).to.match(/busy/i);
      expect(await h.metric('pureboot_tftp_refused_total', { reason: 'busy' })).to.equal(1);
      expect(h.drops.some((d) => d.category === 'overload')).to.equal(true);
      for (const c of holders) c.send(Buffer.from([0, 5, 0, 0, 0x78, 0]), c.all[0].port);
      await until(() => h.server.activeTransfers === 0, 3000, 'slots released');
      const again = await tftpGet({ host: '127.0.0.1', port: 16913, file: 'f.bin' });
      expect(again.ok).to.equal(true);
    } finally {
      for (const c of holders) c.close();
      await h.stop();
    }
  });

  it('maxTransfersPerClient caps one address', async () => {
    const h = await startTftp({ port: 16914, tftp: { maxTransfers: 100, maxTransfersPerClient: 2, timeoutMs: 2000 } });
    const holders: RawClient[] = [];
    try {
      makeFile(h.root, 'f.bin', 10000);
      for (let i = 0; i < 2; i++) {
        const c = await RawClient.open();
        holders.push(c);
        c.send(serializeRequest('RRQ', 'f.bin', 'octet'), 16914);
        await c.next();
      }
      // The gauge is read when the registry is: the two held transfers, then none once they end.
      expect(await h.metric('pureboot_tftp_active_transfers')).to.equal(2);
      const r = await tftpGet({ host: '127.0.0.1', port: 16914, file: 'f.bin' });
      expect(r.error?.code).to.equal(0);
      expect(await h.metric('pureboot_tftp_requests_total', { op: 'RRQ' })).to.equal(3);
      await h.server.stop(); // aborts the held transfers
      expect(await h.metric('pureboot_tftp_active_transfers')).to.equal(0);
    } finally {
      for (const c of holders) c.close();
      await h.stop();
    }
  });

  it('300 concurrent clients of a 70 KB hot file all succeed; the disk is read once', async () => {
    const h = await startTftp({ port: 16915, tftp: { maxTransfers: 1000, maxTransfersPerClient: 1000, timeoutMs: 1000 } });
    try {
      const sum = makeFile(h.root, 'bios/undionly.kpxe', 70 * 1024);
      const results = await Promise.all(Array.from({ length: 300 }, () => tftpGet({ host: '127.0.0.1', port: 16915, file: 'bios/undionly.kpxe', blksize: 1468, keep: false, timeoutMs: 2000, deadlineMs: 30000 })));
      const failed = results.filter((r) => !r.ok || r.sha256 !== sum);
      expect(failed.map((f) => f.reason ?? f.error?.message)).to.deep.equal([]);
      expect(await h.metric('pureboot_tftp_cache_loads_total')).to.equal(1);
      expect(await h.metric('pureboot_tftp_cache_hits_total')).to.equal(299);
    } finally {
      await h.stop();
    }
  });
});

describe('tftp: options and bind errors', () => {
  it('applies schema defaults (port 69, blksizeMax 1468, windowsizeMax 64 …)', async () => {
    const h = await startTftp({ port: 16916 });
    try {
      const o = h.k.config.tftp as Record<string, unknown>;
      expect(o).to.include({ blksizeMax: 1468, windowsizeMax: 64, retries: 6, maxTransfers: 1000, tsize: true });
      expect(o.cache).to.deep.equal({ maxFileBytes: 4194304, maxBytes: 67108864 });
    } finally {
      await h.stop();
    }
  });

  it('rejects invalid options with PB_ERR_CONFIG_INVALID', async () => {
    let err: unknown;
    try {
      await startTftp({ port: 16917, tftp: { blksizeMax: 4 } });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).to.equal('PB_ERR_CONFIG_INVALID');
  });

  it('a port already in use fails with PB_ERR_PORT_IN_USE', async () => {
    const h = await startTftp({ port: 16918 });
    const logger = pino({ level: 'silent' });
    const second = new TftpServer({ options: { ...DEFAULT_OPTIONS, address: '127.0.0.1', port: 16918 }, hooks: createHooks({ logger, deadlines: { default: 1000 } }), logger, metrics: new Registry() });
    try {
      let err: unknown;
      await second.start().catch((e: unknown) => (err = e));
      expect((err as { code?: string })?.code).to.equal('PB_ERR_PORT_IN_USE');
      expect(String((err as Error).message)).to.match(/tftp\.port/);
    } finally {
      await second.stop();
      await h.stop();
    }
  });
});
