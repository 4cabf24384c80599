import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { NetLab, requireRoot, requireTools, skipOrFail, tsNodeArgs, type SkippableContext } from '@pureboot/core/testing';
import type { Endpoint } from '@pureboot/core';
import { bindNativeUdp, nativeUdp, nativeUdpProblem } from '../src/transport/native-udp';
import type { UdpSocket } from '../src/transport/udp';

const execFileP = promisify(execFile);

interface Got {
  data: Buffer;
  from: Endpoint;
}

/** The batched native transport on real loopback sockets, against node:dgram peers. */
describe('tftp: native batched UDP transport (udp_batch.c)', function () {
  this.timeout(10000);
  const open: UdpSocket[] = [];
  const peers: dgram.Socket[] = [];

  const requireAddon = (ctx: SkippableContext) => {
    if (!nativeUdp()) skipOrFail(ctx, `native UDP addon: ${nativeUdpProblem()}`);
  };
  const bind = (onMessage: (buf: Buffer, from: Endpoint) => void, onError: (err: Error) => void = () => undefined) => {
    const s = bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', onMessage, onError });
    open.push(s);
    return s;
  };
  const peer = async () => {
    const p = dgram.createSocket('udp4');
    peers.push(p);
    p.bind(0, '127.0.0.1');
    await once(p, 'listening');
    return p;
  };
  const sendFrom = (p: dgram.Socket, buf: Buffer, port: number) => new Promise<void>((res, rej) => p.send(buf, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  beforeEach(function () {
    requireAddon(this);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    for (const p of peers.splice(0)) p.close();
  });

  it('delivers datagrams in order with their bytes and source (empty and 65 507-byte ones too)', async () => {
    const got: Got[] = [];
    const s = bind((data, from) => void got.push({ data: Buffer.from(data), from }));
    const p = await peer();
    const sizes = [4, 0, 1, 2, 3, 65507, 516, 1472];
    const sent = sizes.map((n, i) => Buffer.alloc(n, i + 1));
    for (const b of sent) await sendFrom(p, b, s.local.port);
    await until(() => got.length === sent.length);
    expect(got.map((g) => g.data)).to.deep.equal(sent);
    for (const g of got) expect(g.from).to.deep.equal({ address: '127.0.0.1', port: p.address().port });
  });

  it('hands one turn\'s datagrams from many sockets to JS and routes each to its own socket', async () => {
    const got = new Map<number, Buffer[]>();
    const socks = Array.from({ length: 20 }, (_, i) => bind((data) => void (got.get(i) ?? got.set(i, []).get(i)!).push(Buffer.from(data))));
    const p = await peer();
    const sends: Promise<void>[] = [];
    for (let round = 0; round < 10; round++) for (const [i, s] of socks.entries()) sends.push(sendFrom(p, Buffer.from(`${i}:${round}`), s.local.port));
    await Promise.all(sends);
    await until(() => [...got.values()].reduce((a, l) => a + l.length, 0) === 200);
    for (const [i] of socks.entries()) expect(got.get(i)!.map(String)).to.deep.equal(Array.from({ length: 10 }, (_, r) => `${i}:${r}`));
  });

  it('sends bytes intact to the given endpoint, from its own port', async () => {
    const s = bind(() => undefined);
    const p = await peer();
    const got: Got[] = [];
    p.on('message', (data, r) => got.push({ data, from: { address: r.address, port: r.port } }));
    const to = { address: '127.0.0.1', port: p.address().port };
    const bufs = [Buffer.from([0, 3, 0, 1, 9, 9]), Buffer.alloc(1472, 7), Buffer.alloc(0)];
    for (const b of bufs) s.send(b, to);
    await until(() => got.length === 3);
    expect(got.map((g) => g.data)).to.deep.equal(bufs);
    for (const g of got) expect(g.from).to.deep.equal({ address: '127.0.0.1', port: s.local.port });
    expect(s.pendingSends()).to.equal(0);
  });

  for (const window of [1, 16]) {
    it(`a burst the kernel cannot take at once (EAGAIN) is queued in the addon and sent in order, none lost (${window > 1 ? `sendMany, ${window} at a time` : 'send'})`, async function () {
      this.timeout(60000);
      requireRoot(this);
      requireTools(this, ['ip', 'tc']);
      // A slow qdisc on the namespace's loopback holds sent datagrams, so the send buffer fills.
      const lab = new NetLab();
      try {
        await lab.addNamespace('q');
        await lab.exec('q', ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '20mbit', 'burst', '16kb', 'latency', '5s']);
        const r = await lab.exec('q', [process.execPath, ...tsNodeArgs(), path.join(__dirname, 'support', 'native-burst.ts'), '600', '1400', String(window)], { timeoutMs: 30000 });
        const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { maxQueued: number; received: number; inOrder: boolean; errors: string[] };
        expect(out.errors).to.deep.equal([]);
        expect(out.maxQueued, 'datagrams queued in the addon at once').to.be.greaterThan(100);
        expect(out.received).to.equal(600);
        expect(out.inOrder).to.equal(true);
      } finally {
        await lab.destroy();
      }
    });
  }

  it('sendMany puts a window on the wire in order, from its own port, with every byte', async () => {
    const s = bind(() => undefined);
    const p = await peer();
    const got: Got[] = [];
    p.on('message', (data, r) => got.push({ data, from: { address: r.address, port: r.port } }));
    const bufs = Array.from({ length: 100 }, (_, i) => Buffer.alloc(4 + (i * 37) % 1468, i)); // more than one sendmmsg call (64)
    s.sendMany(bufs, { address: '127.0.0.1', port: p.address().port });
    await until(() => got.length === 100);
    expect(got.map((g) => g.data)).to.deep.equal(bufs);
    for (const g of got) expect(g.from).to.deep.equal({ address: '127.0.0.1', port: s.local.port });
  });

  for (const immediate of [false, true]) {
    it(`${immediate ? 'immediate: each datagram is handed over with its microtasks before the next is read' : 'batched: a turn\'s datagrams are handed over together, microtasks after'}`, async () => {
      const order: string[] = [];
      const s = bindNativeUdp({
        address: '127.0.0.1',
        port: 0,
        plugin: 'tftp',
        readsPerWake: 8,
        immediate,
        onMessage: (d) => {
          const x = String(d);
          order.push(`rx ${x}`);
          queueMicrotask(() => order.push(`mt ${x}`));
        },
        onError: () => undefined,
      });
      open.push(s);
      const p = await peer();
      for (const x of ['x1', 'x2', 'x3']) p.send(x, s.local.port, '127.0.0.1');
      const t = Date.now();
      while (Date.now() - t < 30); // all three queued before the loop polls
      await until(() => order.length === 6);
      expect(order).to.deep.equal(immediate ? ['rx x1', 'mt x1', 'rx x2', 'mt x2', 'rx x3', 'mt x3'] : ['rx x1', 'rx x2', 'rx x3', 'mt x1', 'mt x2', 'mt x3']);
    });
  }


  it('socket ids stay V8 small integers (< 2^30) however often a slot is reused, and still route after the generation wraps', async () => {
    const a = nativeUdp()!;
    const big: number[] = [];
    for (let i = 0; i < 1100; i++) {
      const [id] = a.open('127.0.0.1', 0, 0, 1, false, false);
      if (id >= 2 ** 30) big.push(id);
      a.close(id);
    }
    expect(big, 'ids at or above 2^30').to.deep.equal([]);
    const got: string[] = [];
    const s = bind((d) => got.push(String(d)));
    const p = await peer();
    await sendFrom(p, Buffer.from('after wrap'), s.local.port);
    await until(() => got.length === 1);
    expect(got).to.deep.equal(['after wrap']);
  });

  it('an immediate socket (the listener) is read before the batched ones of the same wake-up', async () => {
    // A storm's new requests are answered before the ACKs of the transfers already running.
    const order: string[] = [];
    const opts = { address: '127.0.0.1', port: 0, plugin: 'tftp', onError: () => undefined };
    const batched = [0, 1, 2].map((i) => bindNativeUdp({ ...opts, onMessage: (d) => order.push(`transfer${i} ${String(d)}`) }));
    const listener = bindNativeUdp({ ...opts, readsPerWake: 8, immediate: true, onMessage: (d) => order.push(`listener ${String(d)}`) });
    open.push(...batched, listener);
    const p = await peer();
    // The transfer sockets become readable first, the listener last.
    for (const [i, s] of batched.entries()) p.send(`ack${i}`, s.local.port, '127.0.0.1');
    p.send('rrq', listener.local.port, '127.0.0.1');
    const t = Date.now();
    while (Date.now() - t < 30); // all of them queued before the loop polls
    await until(() => order.length === 4);
    expect(order[0]).to.equal('listener rrq');
    expect(order.slice(1).sort()).to.deep.equal(['transfer0 ack0', 'transfer1 ack1', 'transfer2 ack2']);
  });
  it('a closed socket receives nothing more, and a socket reopened in its slot gets only its own datagrams', async () => {
    const p = await peer();
    const first: string[] = [];
    const a = bind((d) => void first.push(String(d)));
    await sendFrom(p, Buffer.from('a1'), a.local.port);
    await until(() => first.length === 1);
    // Both datagrams are read in the same turn: closing `a` in its receiver must not hand `a2` to `b`.
    const second: string[] = [];
    let b: UdpSocket | undefined;
    const c = bind((d) => {
      first.push(`c:${String(d)}`);
      a.close();
      b = bind((x) => void second.push(String(x)));
    });
    // Both queued in the kernel before the loop polls again (dgram sends at once; then a blocked loop).
    p.send(Buffer.from('c1'), c.local.port, '127.0.0.1');
    p.send(Buffer.from('a2'), a.local.port, '127.0.0.1');
    const t = Date.now();
    while (Date.now() - t < 30);
    await until(() => b !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    await sendFrom(p, Buffer.from('b1'), b!.local.port);
    await until(() => second.length === 1);
    expect(second).to.deep.equal(['b1']);
    expect(first).to.include('c:c1');
  });

  it('an open socket keeps the process alive, and a closed one no longer does', async () => {
    const t0 = Date.now();
    const r = await execFileP(process.execPath, [...tsNodeArgs(), path.join(__dirname, 'support', 'native-lifetime.ts')], { timeout: 8000 });
    expect(r.stdout).to.equal('got x\n');
    expect(Date.now() - t0).to.be.lessThan(8000);
  });

  it('worker threads: refused through the transport, and a worker that used the addon itself ends cleanly', async () => {
    const r = await execFileP(process.execPath, [...tsNodeArgs(), path.join(__dirname, 'support', 'native-worker.ts')], { timeout: 20000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { viaTransport: { exit: number; messages: Array<{ loaded: boolean; problem: string }> }; direct: { exit: number; messages: Array<{ opened: boolean; open: number }> }; main: boolean; sent: boolean };
    expect(out.viaTransport.messages[0]).to.deep.include({ loaded: false });
    expect(out.viaTransport.messages[0].problem).to.match(/main thread/);
    expect(out.direct.messages[0]).to.deep.equal({ opened: true, open: 1 });
    expect(out.main, 'the main thread initialises it after the worker ended').to.equal(true);
    expect(out.sent).to.equal(true);
  });

  it('a receiver that throws loses only its own datagram; the error is thrown on after the batch', async () => {
    const r = await execFileP(process.execPath, [...tsNodeArgs(), path.join(__dirname, 'support', 'native-throw.ts')], { timeout: 10000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { got: string[]; uncaught: string[] };
    expect(out.got).to.deep.equal(['b1', 'b2']);
    expect(out.uncaught).to.deep.equal(['receiver A failed']);
  });

  it('a socket destroyed under it (ss -K) reports the error once; one bound to its own port (the listener) keeps receiving', async function () {
    requireRoot(this);
    requireTools(this, ['ss']);
    const errors: Array<Error & { code?: string }> = [];
    const got: string[] = [];
    // A fixed port, as the listener has: the kernel keeps such a socket bound after the abort.
    const probe = await peer();
    const fixed = probe.address().port;
    probe.close();
    peers.splice(peers.indexOf(probe), 1);
    const s = bindNativeUdp({ address: '127.0.0.1', port: fixed, plugin: 'tftp', onMessage: (d) => void got.push(String(d)), onError: (e) => void errors.push(e) });
    open.push(s);
    await execFileP('ss', ['-K', '-u', '-a', 'src', `127.0.0.1:${fixed}`]);
    await until(() => errors.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.map((e) => e.code)).to.deep.equal(['ECONNABORTED']);
    const p = await peer();
    await sendFrom(p, Buffer.from('after'), fixed);
    await until(() => got.length === 1);
    expect(got).to.deep.equal(['after']);
  });

  it('bind errors carry the core codes (port in use)', async () => {
    const p = await peer();
    expect(() => bind(() => undefined)).to.not.throw();
    let err: (Error & { code?: string }) | undefined;
    try {
      bindNativeUdp({ address: '127.0.0.1', port: p.address().port, plugin: 'tftp', onMessage: () => undefined, onError: () => undefined });
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).to.equal('PB_ERR_PORT_IN_USE');
  });

  it('a send the kernel refuses for good is reported to onError, not thrown', async () => {
    const errors: Error[] = [];
    const s = bind(() => undefined, (e) => void errors.push(e));
    // 0.0.0.0:0 is not a destination: sendto fails at once (EINVAL).
    expect(() => s.send(Buffer.from('x'), { address: '0.0.0.0', port: 0 })).to.not.throw();
    expect(errors).to.have.length(1);
    expect(errors[0].message).to.match(/send to 0\.0\.0\.0:0 failed \(E[A-Z]+\)/);
    // sendMany: one report with how many were lost and why.
    expect(() => s.sendMany!([Buffer.from('a'), Buffer.from('b')], { address: '0.0.0.0', port: 0 })).to.not.throw();
    expect(errors).to.have.length(2);
    expect(errors[1].message).to.match(/2 of 2 datagrams refused \(E[A-Z]+\)/);
    expect((errors[1] as Error & { code?: string }).code).to.match(/^E[A-Z]+$/);
  });
});
