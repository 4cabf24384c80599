import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { requireTools, run } from '@pureboot/core/testing';
import { makeFile, sha256File, startTftp, type TftpHarness } from './support/harness';
import { tftpGet } from './support/tftp-client';

const PORT = 16901;
const BIG = 40 * 1024 * 1024 + 7; // > 65535 blocks at 512 bytes: the block number rolls over

interface Client {
  tool: string;
  /** argv to fetch `remote` into `local`; blksize undefined = the client's default (512). */
  argv(remote: string, local: string, blksize?: number): string[];
  blksizeOption: boolean;
}

const clients: Client[] = [
  { tool: 'tftp', blksizeOption: false, argv: (r, l) => ['tftp', '-m', 'binary', '127.0.0.1', String(PORT), '-c', 'get', r, l] },
  {
    tool: 'atftp',
    blksizeOption: true,
    argv: (r, l, b) => ['atftp', ...(b ? ['--option', `blksize ${b}`, '--option', 'tsize 0'] : []), '-g', '-r', r, '-l', l, '127.0.0.1', String(PORT)],
  },
  { tool: 'curl', blksizeOption: true, argv: (r, l, b) => ['curl', '-sS', '--max-time', '60', '--tftp-blksize', String(b ?? 512), '-o', l, `tftp://127.0.0.1:${PORT}/${r}`] },
  { tool: 'busybox', blksizeOption: true, argv: (r, l, b) => ['busybox', 'tftp', '-g', ...(b ? ['-b', String(b)] : []), '-r', r, '-l', l, '127.0.0.1', String(PORT)] },
];

describe('tftp: real clients on loopback (byte-exact, sha256)', function () {
  this.timeout(60000);
  let h: TftpHarness;
  let out: string;
  const sums: Record<string, string> = {};

  before(async function () {
    requireTools(this, clients.map((c) => c.tool));
    h = await startTftp({ port: PORT });
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-out-'));
    sums.small = makeFile(h.root, 'small.bin', 1000);
    sums.exact512 = makeFile(h.root, 'boot/exact512.bin', 512 * 64);
    sums.exact1468 = makeFile(h.root, 'boot/exact1468.bin', 1468 * 50);
    sums.big = makeFile(h.root, 'big.bin', BIG);
  });
  after(async () => {
    await h?.stop();
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  async function fetch(c: Client, remote: string, blksize?: number): Promise<string> {
    const local = path.join(out, `${c.tool}-${path.basename(remote)}-${blksize ?? 512}`);
    const argv = c.argv(remote, local, blksize);
    const r = await run(argv[0], argv.slice(1), { timeoutMs: 60000, allowFail: true });
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).to.equal(0);
    const sum = sha256File(local);
    fs.rmSync(local);
    return sum;
  }

  for (const c of clients) {
    it(`${c.tool}: small file`, async () => {
      expect(await fetch(c, 'small.bin')).to.equal(sums.small);
    });
    it(`${c.tool}: exact multiple of 512 (final empty DATA block)`, async () => {
      expect(await fetch(c, 'boot/exact512.bin')).to.equal(sums.exact512);
    });
    if (c.blksizeOption) {
      it(`${c.tool}: blksize 1468, exact multiple of 1468`, async () => {
        expect(await fetch(c, 'boot/exact1468.bin', 1468)).to.equal(sums.exact1468);
      });
    }
  }

  it('all four clients at once: 40 MiB at 512-byte blocks (block number rollover)', async () => {
    const before = h.events.filter((e) => e.kind === 'tftp.done').length;
    const got = await Promise.all(clients.map((c) => fetch(c, 'big.bin')));
    for (const g of got) expect(g).to.equal(sums.big);
    const done = h.events.filter((e) => e.kind === 'tftp.done').slice(before);
    expect(done).to.have.length(4);
    for (const e of done) {
      expect(e.detail).to.include({ path: 'big.bin', bytes: BIG, blksize: 512, windowsize: 1 });
      expect(e.detail.blocks).to.equal(Math.floor(BIG / 512) + 1);
      expect(e.address).to.equal('127.0.0.1');
    }
  });

  it('curl reports the tsize the server sent (RFC 2349) and our client sees it too', async () => {
    const r = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'big.bin', tsize: true, blksize: 1468, windowsize: 64, keep: false });
    expect(r.ok).to.equal(true);
    expect(r.oack).to.deep.equal({ tsize: String(BIG), blksize: '1468', windowsize: '64' });
    expect(r.sha256).to.equal(sums.big);
    const v = await run('curl', ['-sS', '-v', '--tftp-blksize', '1468', '-o', '/dev/null', `tftp://127.0.0.1:${PORT}/small.bin`], { allowFail: true });
    expect(v.code).to.equal(0);
    expect(v.stderr).to.match(/tsize[^\n]*1000|1000[^\n]*tsize/i);
  });

  it('tftp-hpa in netascii mode gets the text back unchanged (LF → CR LF on the wire, decoded by the client)', async () => {
    const text = 'line one\nline two\r\nbare cr\rend\n';
    fs.writeFileSync(path.join(h.root, 'notes.txt'), text);
    const local = path.join(out, 'notes.txt');
    const r = await run('tftp', ['-m', 'netascii', '127.0.0.1', String(PORT), '-c', 'get', 'notes.txt', local], { allowFail: true });
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.readFileSync(local, 'latin1')).to.equal(text);
    const done = h.events.filter((e) => e.kind === 'tftp.done' && e.detail.path === 'notes.txt').pop();
    // 4 LF become CR LF, the lone CR becomes CR NUL: 5 bytes more on the wire.
    expect(done?.detail).to.include({ mode: 'netascii', bytes: Buffer.byteLength(text) + 5 });
    const own = await tftpGet({ host: '127.0.0.1', port: PORT, file: 'notes.txt', mode: 'netascii' });
    expect(own.data?.toString('latin1')).to.equal(text);
  });
});
