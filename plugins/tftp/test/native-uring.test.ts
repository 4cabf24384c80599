import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { NetLab, requireRoot, requireTools, skipOrFail, tsNodeArgs } from '@pureboot/core/testing';
import { bindNativeUdp, nativeRingProblem, nativeUdp, nativeUdpProblem, type NativeUdpSocket } from '../src/transport/native-udp';

const execFileP = promisify(execFile);
const execFileSyncQuiet = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const child = path.join(__dirname, 'support', 'native-ring.ts');

interface RingRun {
  answers: number;
  expected: number;
  inOrder: boolean;
  maxQueued: number;
  errors: string[];
  ringProblem: string | null;
}

const parse = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as RingRun;

/** `strace -c` of the child: calls per system call name. */
async function syscallsOf(args: string[]): Promise<{ run: RingRun; calls: Record<string, number> }> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-strace-')), 'counts.txt');
  try {
    const r = await execFileP('strace', ['-f', '-qq', '-c', '-e', 'trace=sendto,recvfrom,io_uring_enter,sendmmsg', '-o', out, process.execPath, ...tsNodeArgs(), child, ...args], { timeout: 30000 });
    const calls: Record<string, number> = {};
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
      if (m && m[2] !== 'total') calls[m[2]] = Number(m[1]);
    }
    return { run: parse(r.stdout), calls };
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

/**
 * The native transport's io_uring paths (uring.c): a batch's sends submitted together, ready sockets
 * read together, EAGAIN and order, a socket closed with a datagram staged, the kernel refusing
 * io_uring. Real loopback sockets; the children run their own event loop so that one burst is one
 * batch.
 */
describe('tftp: native transport on io_uring (uring.c)', function () {
  this.timeout(60000);

  beforeEach(function () {
    if (!nativeUdp()) skipOrFail(this, `native UDP addon: ${nativeUdpProblem()}`);
    const problem = nativeRingProblem();
    if (problem) skipOrFail(this, problem);
  });

  it('a batch of 64 datagrams on 64 sockets is read with one system call and answered with one', async function () {
    requireTools(this, ['strace']);
    const ring = await syscallsOf(['echo', '64', '1']);
    expect(ring.run).to.deep.include({ answers: 64, inOrder: true, errors: [], ringProblem: null });
    expect(ring.calls.sendto ?? 0, 'sendto calls').to.equal(0);
    expect(ring.calls.recvfrom ?? 0, 'recvfrom calls').to.equal(0);
    expect(ring.calls.io_uring_enter, 'io_uring_enter calls').to.be.within(2, 4);
    // The same sockets without ioUring: one call per datagram each way.
    const plain = await syscallsOf(['echo', '64', '0']);
    expect(plain.run).to.deep.include({ answers: 64, inOrder: true, errors: [] });
    expect(plain.calls.sendto).to.equal(64);
    expect(plain.calls.recvfrom).to.equal(64);
    expect(plain.calls.io_uring_enter ?? 0).to.equal(0);
  });

  it('a socket closed right after it answers inside the batch still puts its answer on the wire', async () => {
    const r = parse((await execFileP(process.execPath, [...tsNodeArgs(), child, 'close', '64', '1'], { timeout: 30000 })).stdout);
    expect(r).to.deep.include({ answers: 64, expected: 64, inOrder: true, errors: [] });
  });

  it('send, sendMany and send of one socket in one batch arrive in that order', async () => {
    for (const ring of ['1', '0']) {
      const r = parse((await execFileP(process.execPath, [...tsNodeArgs(), child, 'mixed', '32', ring], { timeout: 30000 })).stdout);
      expect(r, `ioUring ${ring}`).to.deep.include({ answers: 128, inOrder: true, errors: [] });
    }
  });

  it('ring submissions the kernel cannot take (EAGAIN) are queued and sent in order, none lost', async function () {
    requireRoot(this);
    requireTools(this, ['ip', 'tc', 'strace']);
    // Two sockets sending in turn inside one batch: each send submits the other's staged datagram, so
    // the ring gets submissions of two; a slow qdisc fills the send buffers until the kernel refuses.
    const lab = new NetLab();
    try {
      await lab.addNamespace('u');
      await lab.exec('u', ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '20mbit', 'burst', '16kb', 'latency', '5s']);
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-strace-')), 'counts.txt');
      const r = await lab.exec('u', ['strace', '-f', '-qq', '-c', '-e', 'trace=io_uring_enter', '-o', out, process.execPath, ...tsNodeArgs(), child, 'alternate', '600', '1400'], { timeoutMs: 40000 });
      const counts = fs.readFileSync(out, 'utf8');
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
      const run = parse(r.stdout);
      expect(run).to.deep.include({ answers: 600, inOrder: true, errors: [] });
      expect(run.maxQueued, 'copies queued in the addon at once').to.be.greaterThan(100);
      const enters = Number(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+).*io_uring_enter/m.exec(counts)?.[1] ?? 0);
      expect(enters, 'ring submissions').to.be.greaterThan(100);
    } finally {
      await lab.destroy();
    }
  });

  it('ready sockets read together get their own datagrams intact: empty, 1 byte, 65 507 bytes', async () => {
    const got = new Map<number, Buffer[]>();
    const sizes = [0, 1, 4, 516, 1472, 65507, 9000, 2];
    const socks: NativeUdpSocket[] = sizes.map((_, i) =>
      bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', ioUring: true, onMessage: (d) => void (got.get(i) ?? got.set(i, []).get(i)!).push(Buffer.from(d)), onError: () => undefined }),
    );
    const p = dgram.createSocket('udp4');
    try {
      p.bind(0, '127.0.0.1');
      await once(p, 'listening');
      for (let round = 0; round < 3; round++) {
        const sent = await Promise.all(
          socks.map((s, i) => {
            const b = Buffer.alloc(sizes[i], (i * 7 + round) & 255);
            return new Promise<Buffer>((res, rej) => p.send(b, s.local.port, '127.0.0.1', (e) => (e ? rej(e) : res(b))));
          }),
        );
        const t = Date.now();
        while (Date.now() - t < 20); // all of them readable in one wake-up
        const end = Date.now() + 3000;
        while ([...got.values()].reduce((a, l) => a + l.length, 0) < (round + 1) * socks.length && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
        for (const [i, b] of sent.entries()) expect(got.get(i)?.[round], `socket ${i} round ${round}`).to.deep.equal(b);
      }
    } finally {
      p.close();
      for (const s of socks) s.close();
    }
  });

  it('errors of sockets read together reach each socket once (two destroyed at once with ss -K)', async function () {
    requireRoot(this);
    requireTools(this, ['ss']);
    const errors = new Map<number, string[]>();
    const got: string[] = [];
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const base = probe.address().port;
    probe.close();
    // Fixed ports, as the listener has: a socket bound to its port keeps receiving after the abort.
    const socks = [0, 1].map((i) => bindNativeUdp({ address: '127.0.0.1', port: base + i, plugin: 'tftp', ioUring: true, onMessage: (d) => void got.push(`${i}:${String(d)}`), onError: (e) => void (errors.get(i) ?? errors.set(i, []).get(i)!).push((e as Error & { code?: string }).code ?? e.message) }));
    try {
      await execFileP('ss', ['-K', '-u', '-a', 'src', `127.0.0.1:${base}`, 'or', 'src', `127.0.0.1:${base + 1}`]);
      const end = Date.now() + 3000;
      while ((errors.size < 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100));
      expect([...errors.entries()].sort()).to.deep.equal([
        [0, ['ECONNABORTED']],
        [1, ['ECONNABORTED']],
      ]);
      const p = dgram.createSocket('udp4');
      await new Promise<void>((res) => p.send('after', base, '127.0.0.1', () => p.send('after', base + 1, '127.0.0.1', () => res())));
      const end2 = Date.now() + 3000;
      while (got.length < 2 && Date.now() < end2) await new Promise((r) => setTimeout(r, 5));
      p.close();
      expect(got.sort()).to.deep.equal(['0:after', '1:after']);
    } finally {
      for (const s of socks) s.close();
    }
  });

  describe('cases a review found (each failed before its fix)', function () {
    const faults = path.join(__dirname, 'support', 'native-ring-faults.ts');
    let shim: string | undefined;
    let shimDir: string | undefined;
    interface FaultRun {
      ring: string;
      got: string[];
      errors: string[];
      cGot: number;
      answers: number;
    }
    const runFault = async (mode: string, env: Record<string, string> = {}) =>
      JSON.parse((await execFileP(process.execPath, [...tsNodeArgs(), faults, mode], { timeout: 30000, env: { ...process.env, ...env } })).stdout.trim().split('\n').pop()!) as FaultRun;
    /** LD_PRELOAD shim (support/fail-enter.c) whose FAIL_ENTER-th io_uring_enter fails with EFAULT. */
    const failEnter = (ctx: Mocha.Context) => {
      requireTools(ctx, ['cc']);
      if (!shim) {
        shimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-fail-enter-'));
        shim = path.join(shimDir, 'fail-enter.so');
        execFileSyncQuiet('cc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(__dirname, 'support', 'fail-enter.c'), '-ldl']);
      }
      return shim;
    };
    after(() => {
      if (shimDir) fs.rmSync(shimDir, { recursive: true, force: true });
    });

    it('refusals reported while a batch is read do not overwrite it: every socket of the batch still gets its datagram', async () => {
      const r = await runFault('errors');
      expect(r.got).to.deep.equal(['0:hello0', '1:hello1', '2:hello2', '3:hello3']);
      expect(r.errors).to.deep.equal(Array(6).fill('0:EINVAL'));
    });

    it('a datagram refused right before close() is reported, as with sendto', async () => {
      expect((await runFault('close')).errors).to.deep.equal(['0:EINVAL', '1:EINVAL']);
      expect((await runFault('close', { RING: '0' })).errors).to.deep.equal(['0:EINVAL', '1:EINVAL']);
    });

    it('sockets collected for a ring read are read before a flush can close them and reuse their fd numbers', async () => {
      expect((await runFault('fd-reuse')).cGot).to.equal(1);
    });

    it('a ring read that fails: the rest is read with recvfrom before any receiver runs (fd reuse), and the ring is given up', async function () {
      const r = await runFault('fd-reuse-late', { FAIL_ENTER: '1', LD_PRELOAD: failEnter(this) });
      expect(r.cGot).to.equal(1);
      expect(r.ring).to.equal('io_uring is not available (EIO)');
    });

    it('a ring read that fails: sends made while its results are handed out still go out (21 of 21 answers)', async function () {
      const r = await runFault('answers', { FAIL_ENTER: '1', LD_PRELOAD: failEnter(this) });
      expect(r.got).to.deep.equal(['big', 'again']);
      expect(r.answers).to.equal(21);
    });

    it('a ring read that fails after the kernel took it: what completed is delivered, not reported lost', async function () {
      const out = await execFileP(process.execPath, [...tsNodeArgs(), child, 'echo', '8', '1'], { timeout: 30000, env: { ...process.env, FAIL_ENTER: '1', SUBMIT_FIRST: '1', LD_PRELOAD: failEnter(this) } });
      expect(parse(out.stdout)).to.deep.include({ answers: 8, inOrder: true, errors: [] });
    });
  });

  it('where the kernel refuses io_uring (kernel.io_uring_disabled=2), sockets opened with ioUring still work, one call per datagram', async function () {
    requireRoot(this);
    const knob = '/proc/sys/kernel/io_uring_disabled';
    if (!fs.existsSync(knob)) this.skip(); // kernels before 6.6 have no switch (and this host has one)
    const before = fs.readFileSync(knob, 'utf8').trim();
    let r: RingRun;
    try {
      fs.writeFileSync(knob, '2');
      // The child sets its ring up at start; io_uring is off only until then.
      const pending = execFileP(process.execPath, [...tsNodeArgs(), child, 'echo', '16', '1'], { timeout: 30000 });
      r = parse((await pending).stdout);
    } finally {
      fs.writeFileSync(knob, before);
    }
    expect(r.ringProblem).to.equal('io_uring is not available (EPERM)');
    expect(r).to.deep.include({ answers: 16, inOrder: true, errors: [] });
  });
});
