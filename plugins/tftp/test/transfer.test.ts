import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { busyPoller } from '@pureboot/core';
import { skipOrFail } from '@pureboot/core/testing';
import { serializeAck, serializeRequest } from '../src/codec/packet';
import { nativeRingProblem, nativeUdp, nativeUdpProblem } from '../src/transport/native-udp';
import { makeFile, startTftp, until, type TftpHarness } from './support/harness';
import { RawClient } from './support/raw';
import { tftpGet } from './support/tftp-client';

// Every transfer test runs on both transports of the transfer sockets, the native one with and
// without io_uring (batched system calls, or one sendto/recvfrom per datagram), with files streamed
// from disk; and once more with the files cached, where the native data plane (native/pilot.h)
// answers the in-order ACKs and JS everything else.
const variants = [
  { name: 'native', transport: 'native', ioUring: true, cached: false, port: 16910, offPort: 16919 },
  { name: 'native without io_uring', transport: 'native', ioUring: false, cached: false, port: 16922, offPort: 16923 },
  { name: 'native, cached files (the data plane answers)', transport: 'native', ioUring: true, cached: true, port: 16926, offPort: 16927 },
  { name: 'dgram', transport: 'dgram', ioUring: false, cached: false, port: 16920, offPort: 16921 },
] as const;
for (const { name, transport, ioUring, cached, port: PORT, offPort: OFF_PORT } of variants) {
  describe(`tftp: transfers on ${name} sockets (windowsize, retransmission, Sorcerer's Apprentice, wrong TID)`, function () {
    this.timeout(30000);
    let h: TftpHarness;
    let sum1m: string;
    const clients: RawClient[] = [];
    const raw = async () => {
      const c = await RawClient.open();
      clients.push(c);
      return c;
    };

    before(async function () {
      if (transport === 'native' && !nativeUdp()) skipOrFail(this, `native UDP addon: ${nativeUdpProblem()}`);
      if (ioUring && nativeRingProblem()) skipOrFail(this, nativeRingProblem()!);
      h = await startTftp({ port: PORT, tftp: { timeoutMs: 150, maxTimeoutMs: 600, retries: 3, cache: { maxFileBytes: cached ? 4194304 : 0 }, transport, ioUring } });
      expect(h.server.transport).to.equal(transport);
      expect(h.server.ioUring).to.equal(ioUring);
      sum1m = makeFile(h.root, 'one-mb.bin', 1024 * 1024 + 333);
      makeFile(h.root, 'ten-blocks.bin', 512 * 10 + 100);
    });
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });
    after(async () => h?.stop());

    for (const ws of [1, 4, 16, 64]) {
      it(`windowsize ${ws}: the file arrives intact, the OACK echoes what was granted`, async () => {
        const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'one-mb.bin', blksize: 1468, windowsize: ws, tsize: true });
        expect(r.ok, r.reason).to.equal(true);
        expect(r.sha256).to.equal(sum1m);
        expect(r.oack).to.deep.equal({ blksize: '1468', windowsize: String(ws), tsize: String(1024 * 1024 + 333) });
        expect(r.duplicateData).to.equal(0);
      });
    }

    it(cached ? 'the data plane answers every in-order ACK but the final one' : 'JS answers every ACK (no data plane for streamed files)', async () => {
      const before = await h.metric('pureboot_tftp_native_data_total');
      const retransmitsBefore = await h.metric('pureboot_tftp_retransmits_total');
      const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'one-mb.bin', blksize: 1468 });
      expect(r.ok, r.reason).to.equal(true);
      expect(r.sha256).to.equal(sum1m);
      await until(() => h.server.activeTransfers === 0, 2000, 'the server to take the final ACK');
      const piloted = (await h.metric('pureboot_tftp_native_data_total')) - before;
      const retransmits = (await h.metric('pureboot_tftp_retransmits_total')) - retransmitsBefore;
      // Block 1 goes out on the ACK of the OACK (JS), blocks 2..715 on the ACKs of 1..714 (the data
      // plane), and the final ACK ends the transfer in JS. A retransmission hands a few back to JS.
      if (!cached) expect(piloted).to.equal(0);
      else if (retransmits === 0) expect(piloted).to.equal(r.blocks - 1);
      else expect(piloted).to.be.within(r.blocks - 1 - 10 * retransmits, r.blocks - 1);
    });

    it('ACKs that each come well within the timeout never cause a retransmission, however long the transfer takes', async () => {
      const c = await raw();
      const retransmitsBefore = await h.metric('pureboot_tftp_retransmits_total');
      c.send(serializeRequest('RRQ', 'ten-blocks.bin', 'octet'), PORT);
      const blocks: number[] = [];
      let d = await c.next();
      const tid = d!.port;
      const started = Date.now();
      while (d?.packet?.op === 'DATA') {
        blocks.push(d.packet.block);
        await new Promise((r) => setTimeout(r, 60)); // 11 × 60 ms: the transfer spans four timeouts of 150 ms
        c.send(serializeAck(d.packet.block), tid);
        if (d.packet.block === 11) break;
        d = await c.next();
      }
      expect(Date.now() - started).to.be.greaterThan(600);
      expect(blocks).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await c.collect(200)).to.have.length(0);
      expect((await h.metric('pureboot_tftp_retransmits_total')) - retransmitsBefore).to.equal(0);
      await until(() => h.events.some((e) => e.kind === 'tftp.done' && e.detail.client === `127.0.0.1:${c.port}`), 2000, 'tftp.done');
    });

    it('windowsize with block-number rollover (blksize 8 → 70 000 blocks)', async () => {
      const size = 8 * 70000 + 3;
      const sum = makeFile(h.root, 'roll-small-blocks.bin', size);
      const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'roll-small-blocks.bin', blksize: 8, windowsize: 32 });
      expect(r.ok, r.reason).to.equal(true);
      expect(r.sha256).to.equal(sum);
      expect(r.blocks).to.equal(70001);
    });

    it('a duplicate ACK causes no duplicate DATA (Sorcerer\'s Apprentice)', async () => {
      const c = await raw();
      const dupBefore = await h.metric('pureboot_tftp_duplicate_acks_total');
      c.send(serializeRequest('RRQ', 'ten-blocks.bin', 'octet'), PORT);
      const d1 = await c.next();
      expect(d1?.packet).to.include({ op: 'DATA', block: 1 });
      const tid = d1!.port;
      c.send(serializeAck(1), tid);
      c.send(serializeAck(1), tid);
      c.send(serializeAck(1), tid);
      const got = await c.collect(100); // well below the 150 ms retransmission timeout
      const data2 = got.filter((g) => g.packet?.op === 'DATA' && g.packet.block === 2);
      expect(data2).to.have.length(1);
      expect(got.filter((g) => g.packet?.op === 'DATA' && g.packet.block !== 2)).to.have.length(0);
      expect((await h.metric('pureboot_tftp_duplicate_acks_total')) - dupBefore).to.equal(2);
      // Finish the transfer properly.
      for (let b = 2; b <= 11; b++) {
        c.send(serializeAck(b), tid);
        if (b < 11) await c.next();
      }
    });

    it('retransmits on timeout with backoff, then gives up after the retries and reports tftp.failed', async () => {
      const c = await raw();
      c.send(serializeRequest('RRQ', 'ten-blocks.bin', 'octet'), PORT);
      const got = await c.collect(150 + 300 + 600 + 600 + 900);
      const data1 = got.filter((g) => g.packet?.op === 'DATA' && g.packet.block === 1);
      expect(data1).to.have.length(4); // first send + 3 retries
      await until(() => h.events.some((e) => e.kind === 'tftp.failed' && e.detail.client === `127.0.0.1:${c.port}`), 3000, 'tftp.failed');
      const ev = h.events.find((e) => e.kind === 'tftp.failed' && e.detail.client === `127.0.0.1:${c.port}`);
      expect(ev?.detail).to.include({ reason: 'timeout', path: 'ten-blocks.bin' });
      expect(await h.metric('pureboot_tftp_transfers_total', { result: 'failed', reason: 'timeout' })).to.be.greaterThan(0);
    });

    it('windowsize: the whole window is sent again on timeout; a gap ACK restarts the window after it', async () => {
      const c = await raw();
      c.send(serializeRequest('RRQ', 'ten-blocks.bin', 'octet', [{ name: 'windowsize', value: '4' }]), PORT);
      const oack = await c.next();
      expect(oack?.packet).to.deep.include({ op: 'OACK' });
      const tid = oack!.port;
      c.send(serializeAck(0), tid);
      const first = await c.collect(120);
      expect(first.map((g) => (g.packet as { block: number }).block)).to.deep.equal([1, 2, 3, 4]);
      const again = await c.collect(250);
      expect(again.map((g) => (g.packet as { block: number }).block)).to.deep.equal([1, 2, 3, 4]);
      c.send(serializeAck(2), tid); // "I lost block 3"
      const after = await c.collect(100);
      expect(after.map((g) => (g.packet as { block: number }).block)).to.deep.equal([3, 4, 5, 6]);
      c.send(serializeAck(6), tid);
      const next = await c.collect(100);
      expect(next.map((g) => (g.packet as { block: number }).block)).to.deep.equal([7, 8, 9, 10]);
      c.send(serializeAck(10), tid);
      const last = await c.next();
      expect(last?.packet).to.include({ op: 'DATA', block: 11 });
      expect((last?.packet as { data: Buffer }).data.length).to.equal(100);
      c.send(serializeAck(11), tid);
      await until(() => h.events.some((e) => e.kind === 'tftp.done' && e.detail.client === `127.0.0.1:${c.port}`), 2000, 'tftp.done');
    });

    it('a datagram from a wrong TID gets ERROR 5 and the transfer goes on', async () => {
      const c = await raw();
      const intruder = await raw();
      c.send(serializeRequest('RRQ', 'ten-blocks.bin', 'octet'), PORT);
      const d1 = await c.next();
      const tid = d1!.port;
      intruder.send(serializeAck(1), tid);
      const err = await intruder.next();
      expect(err?.packet).to.include({ op: 'ERROR', code: 5 });
      for (let b = 1; b <= 11; b++) {
        c.send(serializeAck(b), tid);
        if (b < 11) expect((await c.next())?.packet).to.include({ op: 'DATA', block: b + 1 });
      }
      expect(h.drops.some((d) => d.category === 'wrong-tid')).to.equal(true);
    });

    it('a repeated RRQ from the same port while the transfer runs does not start a second transfer', async () => {
      const c = await raw();
      const rrq = serializeRequest('RRQ', 'ten-blocks.bin', 'octet');
      c.send(rrq, PORT);
      const d1 = await c.next();
      c.send(rrq, PORT);
      const extra = await c.collect(80);
      expect(extra).to.have.length(0);
      expect(h.drops.some((d) => d.category === 'duplicate')).to.equal(true);
      c.send(Buffer.from([0, 5, 0, 0, 0x78, 0]), d1!.port); // ERROR from the client ends it
      await until(() => h.events.some((e) => e.kind === 'tftp.failed' && e.detail.client === `127.0.0.1:${c.port}` && e.detail.reason === 'client-error'), 2000, 'client-error');
    });

    it('emits tftp.start and tftp.done with path, bytes, blksize, windowsize, durationMs and the client', async () => {
      const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'one-mb.bin', blksize: 1024, windowsize: 8 });
      expect(r.ok).to.equal(true);
      await until(() => h.events.some((e) => e.kind === 'tftp.done' && e.detail.blksize === 1024), 2000, 'tftp.done');
      const start = h.events.find((e) => e.kind === 'tftp.start' && e.detail.blksize === 1024);
      const done = h.events.find((e) => e.kind === 'tftp.done' && e.detail.blksize === 1024);
      expect(start).to.include({ source: 'tftp', address: '127.0.0.1' });
      expect(done?.detail).to.include({ path: 'one-mb.bin', bytes: 1024 * 1024 + 333, blksize: 1024, windowsize: 8 });
      expect(done?.detail.durationMs).to.be.a('number');
      expect(done?.detail.client).to.match(/^127\.0\.0\.1:\d+$/);
      expect(await h.metric('pureboot_tftp_transfers_total', { result: 'done' })).to.be.greaterThan(0);
    });

    it('serves a file with a non-ASCII (UTF-8) name', async () => {
      const sum = makeFile(h.root, 'café/ü.bin', 2000);
      const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'café/ü.bin' });
      expect(r.ok, r.error?.message).to.equal(true);
      expect(r.sha256).to.equal(sum);
    });

    it('streams large files without the cache and serves a file that changes size correctly', async () => {
      const p = path.join(h.root, 'changing.bin');
      fs.writeFileSync(p, Buffer.alloc(3000, 1));
      const a = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'changing.bin' });
      fs.writeFileSync(p, Buffer.alloc(5000, 2));
      const b = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'changing.bin' });
      expect(a.data?.equals(Buffer.alloc(3000, 1))).to.equal(true);
      expect(b.data?.equals(Buffer.alloc(5000, 2))).to.equal(true);
    });

    it('busy polling: transfer sockets keep the event loop polling after they send; busyPollUs 0 turns it off', async () => {
      // JS's busy poller, or the addon's own for the data plane's sends.
      const turns = () => busyPoller.turns + (cached ? nativeUdp()!.spins() : 0);
      const spun = async (port: number) => {
        const before = turns();
        const r = await tftpGet({ host: '127.0.0.1', port, file: 'one-mb.bin', blksize: 1468 });
        expect(r.ok, r.reason).to.equal(true);
        expect(r.sha256).to.equal(sum1m);
        return turns() - before;
      };
      expect(await spun(PORT), 'default busyPollUs (200)').to.be.greaterThan(100);
      const off = await startTftp({ port: OFF_PORT, root: h.root, tftp: { busyPollUs: 0, transport, ioUring } });
      try {
        while (busyPoller.active) await new Promise((r) => setImmediate(r));
        await new Promise((r) => setTimeout(r, 5)); // the addon's spinning ends 200 µs after its last send
        expect(await spun(OFF_PORT), 'busyPollUs 0').to.equal(0);
      } finally {
        await off.stop();
      }
    });
  });
}
