/**
 * Child of native-udp.test.ts, run inside a namespace whose loopback has a slow tbf qdisc: sends
 * N datagrams in one synchronous burst from a native socket to a dgram socket, so the kernel's send
 * buffer fills (EAGAIN) and the addon must queue copies. Prints one JSON line: what arrived, in
 * which order, and the most datagrams the addon held at once.
 *   native-burst.ts N SIZE [WINDOW]   (WINDOW > 1: sent with sendMany, WINDOW datagrams at a time)
 */
import dgram from 'node:dgram';
import { bindNativeUdp, nativeUdp, nativeUdpProblem } from '../../src/transport/native-udp';

const [n, size, window = 1] = process.argv.slice(2).map(Number);
if (!nativeUdp()) throw new Error(`native UDP addon: ${nativeUdpProblem()}`);
const sink = dgram.createSocket('udp4');
const seen: number[] = [];
const errors: string[] = [];
sink.on('message', (d) => {
  seen.push(d.readUInt32BE(0));
  if (seen.length === n) finish();
});
sink.bind(0, '127.0.0.1', () => {
  const s = bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', onMessage: () => undefined, onError: (e) => void errors.push(e.message) });
  const to = { address: '127.0.0.1', port: sink.address().port };
  let maxQueued = 0;
  for (let i = 0; i < n; i += window) {
    const bufs: Buffer[] = [];
    for (let j = i; j < Math.min(n, i + window); j++) {
      const buf = Buffer.alloc(size, j & 255);
      buf.writeUInt32BE(j, 0);
      bufs.push(buf);
    }
    if (window > 1) s.sendMany(bufs, to);
    else s.send(bufs[0], to);
    maxQueued = Math.max(maxQueued, s.queuedCopies());
  }
  const queuedAfterBurst = s.queuedCopies();
  timer = setTimeout(finish, 10000);
  result = { maxQueued, queuedAfterBurst };
});
let timer: NodeJS.Timeout | undefined;
let result: Record<string, number> = {};
function finish(): void {
  clearTimeout(timer);
  const inOrder = seen.every((v, i) => v === i);
  process.stdout.write(JSON.stringify({ ...result, received: seen.length, inOrder, errors }) + '\n');
  process.exit(0);
}
