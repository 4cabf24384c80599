/**
 * Child of native-udp.test.ts: a receiver that throws loses only its own datagram; the other
 * socket's datagram of the same turn is still delivered, and the error surfaces as an uncaught
 * exception. Prints one JSON line.
 */
import dgram from 'node:dgram';
import { bindNativeUdp, nativeUdp, nativeUdpProblem } from '../../src/transport/native-udp';

if (!nativeUdp()) throw new Error(`native UDP addon: ${nativeUdpProblem()}`);
const uncaught: string[] = [];
process.on('uncaughtException', (err) => void uncaught.push(err.message));
const got: string[] = [];
const a = bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', onMessage: () => { throw new Error('receiver A failed'); }, onError: () => undefined });
const b = bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', onMessage: (d) => void got.push(String(d)), onError: () => undefined });
const peer = dgram.createSocket('udp4');
peer.bind(0, '127.0.0.1', () => {
  // Both queued before the loop polls again (dgram sends at once; then the loop is held).
  peer.send('a1', a.local.port, '127.0.0.1');
  peer.send('b1', b.local.port, '127.0.0.1');
  peer.send('b2', b.local.port, '127.0.0.1');
  const t = Date.now();
  while (Date.now() - t < 30);
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ got, uncaught }) + '\n');
    process.exit(0);
  }, 200);
});
