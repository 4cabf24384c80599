import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import { serializeAck, serializeRequest, type TftpOption } from '../src/codec/packet';
import { makeFile, startTftp, until, type TftpHarness } from './support/harness';
import { RawClient } from './support/raw';
import { tftpGet } from './support/tftp-client';

const PORT = 16911;

/** What the server must do with one hostile input. */
type Expect = { error: number } | 'drop' | { oack: Record<string, string> | null };

interface Case {
  name: string;
  datagram: Buffer;
  expect: Expect;
}

const rrq = (file: string, options: TftpOption[] = [], mode: 'octet' | 'netascii' = 'octet') => serializeRequest('RRQ', file, mode, options);
const rawRrq = (parts: string[]) => Buffer.concat([Buffer.from([0, 1]), ...parts.map((p) => Buffer.concat([Buffer.from(p, 'latin1'), Buffer.from([0])]))]);

const cases: Case[] = [
  // traversal in every spelling (refused by the core's static root, end to end)
  { name: 'traversal ../etc/passwd', datagram: rrq('../etc/passwd'), expect: { error: 2 } },
  { name: 'traversal ../../../../etc/passwd', datagram: rrq('../../../../etc/passwd'), expect: { error: 2 } },
  { name: 'traversal with backslashes ..\\..\\etc\\passwd', datagram: rrq('..\\..\\etc\\passwd'), expect: { error: 2 } },
  { name: 'traversal after a leading slash /../etc/passwd', datagram: rrq('/../etc/passwd'), expect: { error: 2 } },
  { name: 'traversal in the middle bios/../../etc/passwd', datagram: rrq('bios/../../etc/passwd'), expect: { error: 2 } },
  { name: 'traversal mixed separators bios\\../..\\etc/passwd', datagram: rrq('bios\\../..\\etc/passwd'), expect: { error: 2 } },
  { name: 'traversal ./.././etc/passwd', datagram: rrq('./.././etc/passwd'), expect: { error: 2 } },
  { name: 'url-encoded traversal %2e%2e/etc/passwd is just a missing name', datagram: rrq('%2e%2e/etc/passwd'), expect: { error: 1 } },
  { name: 'absolute path /etc/passwd stays inside the root', datagram: rrq('/etc/passwd'), expect: { error: 1 } },
  { name: 'absolute path //etc//shadow', datagram: rrq('//etc//shadow'), expect: { error: 1 } },
  { name: 'symlink to /etc inside the root', datagram: rrq('etc-link/passwd'), expect: { error: 2 } },
  { name: 'symlink to a file outside the root', datagram: rrq('passwd-link'), expect: { error: 2 } },
  { name: 'a FIFO in the root', datagram: rrq('fifo'), expect: { error: 2 } },
  { name: 'a directory', datagram: rrq('bios'), expect: { error: 1 } },
  { name: 'control character in the name', datagram: rrq('ok\u0001.bin'), expect: { error: 2 } },
  { name: 'DEL in the name', datagram: rrq('ok\u007f.bin'), expect: { error: 2 } },
  { name: 'NUL inside the name (rest becomes an invalid mode)', datagram: rawRrq(['ok.bin', '../../etc/passwd', 'octet']), expect: 'drop' },
  { name: 'overlong name (4000 bytes)', datagram: rrq('a/'.repeat(2000)), expect: 'drop' },
  { name: 'name of 1000 bytes (parsed, refused as missing)', datagram: rrq('b'.repeat(1000)), expect: { error: 1 } },
  { name: 'empty name', datagram: rawRrq(['', 'octet']), expect: 'drop' },
  { name: 'name of only slashes', datagram: rrq('///'), expect: { error: 2 } },
  { name: 'unknown mode', datagram: rawRrq(['ok.bin', 'binary']), expect: 'drop' },
  { name: 'mail mode read (RFC 1350: mail is for writes only)', datagram: rawRrq(['ok.bin', 'mail']), expect: { error: 4 } },
  { name: 'unterminated request', datagram: Buffer.from('\u0000\u0001ok.bin\u0000octet', 'latin1'), expect: 'drop' },
  // options
  { name: 'unknown options only → no OACK', datagram: rrq('ok.bin', [{ name: 'x-evil', value: 'A'.repeat(200) }, { name: 'multicast', value: '' }]), expect: { oack: null } },
  { name: 'blksize 7 (below 8) ignored', datagram: rrq('ok.bin', [{ name: 'blksize', value: '7' }]), expect: { oack: null } },
  { name: 'blksize 0 ignored, tsize kept', datagram: rrq('ok.bin', [{ name: 'blksize', value: '0' }, { name: 'tsize', value: '0' }]), expect: { oack: { tsize: '4000' } } },
  { name: 'blksize 65536 clamped to the maximum', datagram: rrq('ok.bin', [{ name: 'blksize', value: '65536' }]), expect: { oack: { blksize: '1468' } } },
  { name: 'blksize not a number', datagram: rrq('ok.bin', [{ name: 'blksize', value: '0x400' }]), expect: { oack: null } },
  { name: 'windowsize 0 ignored', datagram: rrq('ok.bin', [{ name: 'windowsize', value: '0' }]), expect: { oack: null } },
  { name: 'windowsize 99999 clamped', datagram: rrq('ok.bin', [{ name: 'windowsize', value: '99999' }]), expect: { oack: { windowsize: '64' } } },
  { name: 'timeout 0 ignored', datagram: rrq('ok.bin', [{ name: 'timeout', value: '0' }]), expect: { oack: null } },
  { name: 'timeout 300 ignored', datagram: rrq('ok.bin', [{ name: 'timeout', value: '300' }]), expect: { oack: null } },
  { name: 'negative tsize ignored', datagram: rrq('ok.bin', [{ name: 'tsize', value: '-1' }]), expect: { oack: null } },
  { name: 'repeated option', datagram: rrq('ok.bin', [{ name: 'blksize', value: '512' }, { name: 'BLKSIZE', value: '1024' }]), expect: 'drop' },
  { name: '40 options', datagram: rrq('ok.bin', Array.from({ length: 40 }, (_, i) => ({ name: `o${i}`, value: '1' }))), expect: 'drop' },
  // other opcodes and garbage to the listener
  { name: 'WRQ (read-only server)', datagram: serializeRequest('WRQ', 'upload.bin', 'octet'), expect: { error: 2 } },
  { name: 'WRQ with traversal', datagram: serializeRequest('WRQ', '../../tmp/x', 'octet'), expect: { error: 2 } },
  { name: 'ACK to the listener', datagram: serializeAck(1), expect: 'drop' },
  { name: 'DATA to the listener', datagram: Buffer.from([0, 3, 0, 1, 1, 2, 3]), expect: 'drop' },
  { name: 'ERROR to the listener', datagram: Buffer.from([0, 5, 0, 1, 0x78, 0]), expect: 'drop' },
  { name: 'OACK to the listener', datagram: Buffer.from('\u0000\u0006blksize\u0000512\u0000', 'latin1'), expect: 'drop' },
  { name: 'unknown opcode 9', datagram: Buffer.from([0, 9, 1, 2, 3]), expect: 'drop' },
  { name: 'empty datagram', datagram: Buffer.alloc(0), expect: 'drop' },
  { name: 'one byte', datagram: Buffer.from([1]), expect: 'drop' },
  { name: 'random garbage', datagram: crypto.createHash('sha512').update('garbage').digest(), expect: 'drop' },
];

describe('tftp: hostile input (each gets the right ERROR or a silent drop; the server keeps serving)', function () {
  this.timeout(40000);
  let h: TftpHarness;
  let okSum: string;

  before(async () => {
    h = await startTftp({ port: PORT, tftp: { timeoutMs: 100, maxTimeoutMs: 200, retries: 1, maxTransfersPerClient: 1000, maxTransfers: 2000 } });
    okSum = makeFile(h.root, 'ok.bin', 4000);
    fs.mkdirSync(path.join(h.root, 'bios'));
    fs.symlinkSync('/etc', path.join(h.root, 'etc-link'));
    fs.symlinkSync('/etc/passwd', path.join(h.root, 'passwd-link'));
    execFileSync('mkfifo', [path.join(h.root, 'fifo')]);
  });
  after(async () => h?.stop());

  it(`has at least 25 hostile cases (${cases.length})`, () => {
    expect(cases.length).to.be.at.least(25);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const client = await RawClient.open();
      try {
        const dropsBefore = h.drops.length;
        client.send(c.datagram, PORT);
        if (c.expect === 'drop') {
          expect(await client.collect(150)).to.have.length(0);
          await until(() => h.drops.length > dropsBefore, 2000, 'packetDropped');
        } else if ('error' in c.expect) {
          const r = await client.next();
          expect(r?.packet, 'an ERROR').to.include({ op: 'ERROR', code: c.expect.error });
        } else {
          const r = await client.next();
          if (c.expect.oack === null) {
            expect(r?.packet).to.include({ op: 'DATA', block: 1 });
          } else {
            expect(r?.packet?.op).to.equal('OACK');
            const got = Object.fromEntries((r!.packet as { options: TftpOption[] }).options.map((o) => [o.name, o.value]));
            expect(got).to.deep.equal(c.expect.oack);
          }
          client.send(Buffer.from([0, 5, 0, 0, 0x78, 0]), r!.port); // abort politely
        }
      } finally {
        client.close();
      }
      // A normal transfer right after it succeeds.
      const ok = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'ok.bin', blksize: 1024, tsize: true });
      expect(ok.ok, ok.reason).to.equal(true);
      expect(ok.sha256).to.equal(okSum);
    });
  }

  it('counts malformed datagrams in pureboot_tftp_dropped_total and packetDropped', async () => {
    const malformed = await h.metric('pureboot_tftp_dropped_total', { category: 'malformed' });
    expect(malformed).to.be.at.least(cases.filter((c) => c.expect === 'drop').length - 5);
    expect(h.drops.filter((d) => d.category === 'malformed').length).to.equal(malformed);
    expect(h.drops.every((d) => d.protocol === 'tftp')).to.equal(true);
  });

  it('20 000 random and mutated datagrams to the listener and to a live transfer: no crash, still serving', async function () {
    this.timeout(30000);
    const seeds = cases.map((c) => c.datagram).filter((d) => d.length > 0);
    const client = await RawClient.open();
    const live = await RawClient.open();
    try {
      live.send(rrq('ok.bin'), PORT);
      const d1 = await live.next();
      const tid = d1!.port;
      const samples = fc.sample(
        fc.oneof(
          fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)),
          fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 })).map(([s, flips]) => {
            const b = Buffer.from(s);
            for (const [pos, v] of flips) b[pos % b.length] = v;
            return b;
          }),
        ),
        { numRuns: 20000, seed: 4242 },
      );
      for (let i = 0; i < samples.length; i++) {
        client.send(samples[i], i % 4 === 0 ? tid : PORT);
        if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      client.close();
      live.close();
    }
    const ok = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'ok.bin' });
    expect(ok.ok, ok.reason).to.equal(true);
    expect(ok.sha256).to.equal(okSum);
  });
});
