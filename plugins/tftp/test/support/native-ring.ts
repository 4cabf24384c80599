/**
 * Child of native-uring.test.ts: native sockets opened with `ioUring`, driven by one burst of
 * datagrams that the addon reads in one turn (the loop is held while a dgram peer sends them), so
 * every receiver runs inside one batch. Prints one JSON line.
 *   native-ring.ts echo N RING          N sockets; each answers what it gets with `<i>:<bytes>`
 *   native-ring.ts close N RING         the same, and each closes its socket right after answering
 *   native-ring.ts mixed N RING         each answers with send, sendMany (2), send: four datagrams in order
 *   native-ring.ts alternate K SIZE     two sockets; the first to receive sends K datagrams of SIZE bytes
 *                                       from both in turn (the ring submits them two at a time)
 * RING: 1 opens the sockets with ioUring, 0 without. Output: answers per socket as received by the
 * peers, whether each socket's came in order from its own port, the addon's most queued copies, the
 * errors reported, and nativeRingProblem().
 */
import dgram from 'node:dgram';
import type { Endpoint } from '@pureboot/core';
import { bindNativeUdp, nativeRingProblem, nativeUdp, nativeUdpProblem, type NativeUdpSocket } from '../../src/transport/native-udp';

const [mode, nStr, third] = process.argv.slice(2);
const n = Number(nStr);
if (!nativeUdp()) throw new Error(`native UDP addon: ${nativeUdpProblem()}`);
const errors: string[] = [];
const ring = mode === 'alternate' ? true : third === '1';
const size = mode === 'alternate' ? Number(third) : 0;
const sockets: NativeUdpSocket[] = [];
/** What each socket's peer received, in order, and from which port. */
const received: Array<Array<{ data: string; port: number }>> = [];
let expected = 0;
let maxQueued = 0;

const payload = (i: number, k: number) => (size ? Buffer.concat([Buffer.from(`${i}:${k}:`), Buffer.alloc(size, k & 255)]).subarray(0, size) : Buffer.from(`${i}:${k}`));

function answer(i: number, from: Endpoint, d: Buffer): void {
  const s = sockets[i];
  const text = `${i}:${String(d)}`;
  if (mode === 'echo') s.send(Buffer.from(text), from);
  else if (mode === 'close') {
    s.send(Buffer.from(text), from);
    s.close();
  } else if (mode === 'mixed') {
    s.send(Buffer.from(`${text}:a`), from);
    s.sendMany([Buffer.from(`${text}:b`), Buffer.from(`${text}:c`)], from);
    s.send(Buffer.from(`${text}:d`), from);
  } else if (mode === 'alternate' && i === 0) {
    // Both sockets' peers, in turn: each send of one socket submits the other's staged datagram.
    for (let k = 0; k < n; k++) {
      sockets[k % 2].send(payload(k % 2, k), peerEndpoints[k % 2]);
      maxQueued = Math.max(maxQueued, sockets[0].queuedCopies() + sockets[1].queuedCopies());
    }
  }
}

const count = mode === 'alternate' ? 2 : n;
const peers: dgram.Socket[] = [];
const peerEndpoints: Endpoint[] = [];
let bound = 0;
for (let i = 0; i < count; i++) {
  sockets.push(bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', ioUring: ring, onMessage: (d, from) => answer(i, from, d), onError: (e) => void errors.push(e.message) }));
  received.push([]);
  // Room for every answer at once: the peers read in the same event loop as the sender, and a pause
  // of that loop (strace stops it at every system call) must not lose datagrams to a full receive
  // buffer — that is not what the test is about (212 992 bytes, the default, lost 1 run in 20).
  const p = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  p.on('message', (d, r) => {
    received[i].push({ data: size ? d.subarray(0, 12).toString('latin1') : String(d), port: r.port });
    if (received.reduce((a, l) => a + l.length, 0) === expected) finish();
  });
  peers.push(p);
  p.bind(0, '127.0.0.1', () => {
    peerEndpoints[i] = { address: '127.0.0.1', port: p.address().port };
    if (++bound === count) burst();
  });
}
expected = mode === 'mixed' ? 4 * n : mode === 'alternate' ? n : n;

function burst(): void {
  // Every datagram queued in the kernel before the loop polls again: the addon reads them in one turn.
  for (let i = 0; i < count; i++) peers[i].send(`x${i}`, sockets[i].local.port, '127.0.0.1');
  const t = Date.now();
  while (Date.now() - t < 50);
  timer = setTimeout(finish, 15000);
}

let timer: NodeJS.Timeout | undefined;
function finish(): void {
  clearTimeout(timer);
  const inOrder = received.every((l, i) => {
    if (l.some((x) => x.port !== sockets[i].local.port)) return false;
    if (mode === 'mixed') return l.map((x) => x.data).join(',') === ['a', 'b', 'c', 'd'].map((s) => `${i}:x${i}:${s}`).join(',');
    if (mode === 'alternate') return l.every((x, j) => x.data.startsWith(`${i}:${2 * j + i}:`));
    return l.length === 1 && l[0].data === `${i}:x${i}`;
  });
  const answers = received.reduce((a, l) => a + l.length, 0);
  process.stdout.write(JSON.stringify({ answers, expected, inOrder, maxQueued, errors: [...new Set(errors)], ringProblem: nativeRingProblem() ?? null }) + '\n');
  process.exit(0);
}
