/**
 * Child of native-udp.test.ts: worker threads and the addon. A worker asking for the transport is
 * told it is main-thread only; a worker that loads and initialises the addon itself, opens sockets
 * and is terminated must leave nothing behind on its freed loop (that crashed the process); afterwards the
 * main thread initialises it. Prints one JSON line and exits by itself.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { bindNativeUdp, nativeUdp, nativeUdpProblem } from '../../src/transport/native-udp';

const addonFile = path.join(__dirname, '..', '..', 'build', 'Release', 'udp_batch.node');
const runWorker = (code: string) =>
  new Promise<{ exit: number; messages: unknown[] }>((resolve, reject) => {
    const messages: unknown[] = [];
    const w = new Worker(code, { eval: true, workerData: { addonFile, transport: path.join(__dirname, '..', '..', 'src', 'transport', 'native-udp.ts') }, execArgv: process.execArgv });
    // A worker with an open socket stays alive, as with dgram: it is terminated once it reported.
    w.on('message', (m) => {
      messages.push(m);
      void w.terminate();
    });
    w.on('error', reject);
    w.on('exit', (exit) => resolve({ exit, messages }));
  });

void (async () => {
  // 1. Through the transport: refused in a worker.
  const viaTransport = await runWorker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const t = require(workerData.transport);
    parentPort.postMessage({ loaded: t.nativeUdp() !== undefined, problem: t.nativeUdpProblem() });`);
  // 2. The addon itself, in a worker that then ends with a socket still open.
  const direct = await runWorker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.addonFile);
    a.init(Buffer.alloc(1 << 18), () => {});
    const [id, port] = a.open('127.0.0.1', 0, 0, 1);
    a.open('127.0.0.1', 0, 0, 1);
    a.close(id);
    parentPort.postMessage({ opened: port > 0, open: a.openCount() });`);
  // 3. The main thread can use it afterwards.
  const main = nativeUdp() !== undefined;
  let sent = false;
  if (main) {
    const s = bindNativeUdp({ address: '127.0.0.1', port: 0, plugin: 'tftp', onMessage: () => undefined, onError: () => undefined });
    sent = s.local.port > 0;
    s.close();
  }
  process.stdout.write(JSON.stringify({ viaTransport, direct, main, mainProblem: nativeUdpProblem(), sent }) + '\n');
})();
