/**
 * Child of native-udp.test.ts: an open native socket alone keeps the process alive (like a dgram
 * socket), and once it is closed nothing does. Prints `got <datagram>` and exits by itself.
 */
import dgram from 'node:dgram';
import { bindNativeUdp, nativeUdp, nativeUdpProblem } from '../../src/transport/native-udp';

if (!nativeUdp()) throw new Error(`native UDP addon: ${nativeUdpProblem()}`);
const s = bindNativeUdp({
  address: '127.0.0.1',
  port: 0,
  plugin: 'tftp',
  onMessage: (b) => {
    process.stdout.write(`got ${String(b)}\n`);
    s.close();
  },
  onError: () => undefined,
});
const peer = dgram.createSocket('udp4');
peer.unref();
// Unreferenced too: only the native socket can keep the process running until this fires.
setTimeout(() => peer.send('x', s.local.port, '127.0.0.1'), 300).unref();
