/**
 * Child of native-uring.test.ts: the cases a review of the io_uring paths found, each printing one
 * JSON line. RING=0 in the environment opens the sockets without ioUring (the reference behaviour).
 *   errors     4 sockets in one batch; socket 0 sends 6 datagrams the kernel refuses (EINVAL) while
 *              the batch is read: every socket still gets its datagram, socket 0 hears 6 errors
 *   close      2 sockets each send a refused datagram and close at once: both errors reported
 *   fd-reuse   148 sockets ready at once (20 with 60 KB datagrams, so the batch buffer fills); the
 *              first flush closes socket 5 and opens C, which gets socket 5's fd number: C's datagram
 *              reaches C
 *   fd-reuse-late  20 sockets with 60 KB datagrams read on the ring; socket 0's receiver closes the
 *              last one (still to be handed out) and opens C on its fd: C's datagram reaches C (run
 *              with FAIL_ENTER=1: the ring read fails and the rest is read with recvfrom)
 *   answers    20 sockets with 60 KB datagrams answer each; socket 0 gets a second datagram and answers
 *              it too: 21 answers (run with FAIL_ENTER=1: the ring fails while results are handed out)
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import type { Endpoint } from '@pureboot/core';
import { bindNativeUdp, nativeRingProblem, nativeUdp, nativeUdpProblem, type NativeUdpSocket } from '../../src/transport/native-udp';

if (!nativeUdp()) throw new Error(`native UDP addon: ${nativeUdpProblem()}`);
const ring = process.env.RING !== '0';
const mode = process.argv[2];
const errors: string[] = [];
const got: string[] = [];
let cGot = 0;
let answers = 0;
const refused: Endpoint = { address: '127.0.0.1', port: 0 }; // sendto answers EINVAL
const mk = (name: string, onMessage: (d: Buffer) => void, ioUring = ring) =>
  bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', ioUring, onMessage, onError: (e) => void errors.push(`${name}:${(e as Error & { code?: string }).code}`) });
/** The fd number the next open gets (the lowest free one). */
const nextFd = () => {
  const fd = fs.openSync('/dev/null', 'r');
  fs.closeSync(fd);
  return fd;
};
/** Open a socket that gets fd number `fd` (lower free numbers are held meanwhile). */
const openOnFd = (fd: number, name: string, onMessage: (d: Buffer) => void): NativeUdpSocket => {
  const held: number[] = [];
  for (;;) {
    const f = fs.openSync('/dev/null', 'r');
    if (f >= fd) {
      fs.closeSync(f);
      break;
    }
    held.push(f);
  }
  const s = mk(name, onMessage);
  for (const f of held) fs.closeSync(f);
  return s;
};

const S: NativeUdpSocket[] = [];
const sends: Array<[number, Buffer | string]> = [];
let reuseFd = -1;
let first = true;
const D = mk('D', () => undefined, false);
if (mode === 'errors') {
  for (let i = 0; i < 4; i++) {
    S.push(mk(`${i}`, (d) => {
      got.push(`${i}:${String(d)}`);
      if (i === 0) for (let k = 0; k < 6; k++) S[0].send(Buffer.from('bad'), refused);
    }));
    sends.push([i, `hello${i}`]);
  }
} else if (mode === 'close') {
  for (let i = 0; i < 2; i++) {
    S.push(mk(`${i}`, () => {
      S[i].send(Buffer.from('final'), refused);
      S[i].close();
    }));
    sends.push([i, 'x']);
  }
} else if (mode === 'fd-reuse' || mode === 'fd-reuse-late') {
  const n = mode === 'fd-reuse' ? 148 : 20;
  const victim = mode === 'fd-reuse' ? 5 : n - 1;
  for (let i = 0; i < n; i++) {
    if (i === victim) reuseFd = nextFd();
    const trigger = mode === 'fd-reuse' ? i >= 128 : i === 0;
    S.push(mk(`${i}`, () => {
      if (!trigger || !first) return;
      first = false;
      S[victim].close();
      const C = openOnFd(reuseFd, 'C', () => void cGot++);
      D.send(Buffer.from('for-C'), { address: '127.0.0.1', port: C.local.port });
    }));
    sends.push([i, mode === 'fd-reuse' && i < 128 ? 'ack' : Buffer.alloc(60000)]);
  }
} else if (mode === 'answers') {
  for (let i = 0; i < 20; i++) {
    S.push(mk(`${i}`, (d) => {
      if (i === 0) got.push(d.length > 100 ? 'big' : String(d));
      S[i].send(Buffer.from(`answer${i}`), peerAt);
      if (i === 0 && got.length === 1) D.send(Buffer.from('again'), { address: '127.0.0.1', port: S[0].local.port });
    }));
    sends.push([i, Buffer.alloc(60000)]);
  }
} else throw new Error(`unknown mode ${mode}`);

let peerAt: Endpoint = { address: '127.0.0.1', port: 0 };
const peer = dgram.createSocket('udp4');
peer.on('message', () => void answers++);
peer.bind(0, '127.0.0.1', () => {
  peerAt = { address: '127.0.0.1', port: peer.address().port };
  for (const [i, b] of sends) peer.send(b, S[i].local.port, '127.0.0.1');
  const t = Date.now();
  while (Date.now() - t < 100); // all of them readable in one wake-up
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ ring: nativeRingProblem() ?? 'ok', got, errors: errors.sort(), cGot, answers }) + '\n');
    process.exit(0);
  }, 400);
});
