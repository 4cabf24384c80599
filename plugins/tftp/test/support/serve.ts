/**
 * Runs a PureBoot with only the TFTP plugin (for tests that put the server in a network namespace,
 * and for the benchmark). Prints `tftp ready <address>:<port>` once listening; stops on SIGTERM.
 *   serve.ts --root DIR --address ADDR --port PORT [--tftp JSON]
 */
import { startTftp } from './harness';

const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};

void (async () => {
  const extra = JSON.parse(arg('--tftp') ?? '{}') as Record<string, unknown>;
  const h = await startTftp({ port: Number(arg('--port') ?? 0), root: arg('--root'), tftp: { address: arg('--address') ?? '127.0.0.1', ...extra }, keepEvents: false });
  process.stdout.write(`tftp ready ${h.server.address?.address}:${h.port}\n`);
  const stop = async () => {
    const done = h.eventCounts.get('tftp.done') ?? 0;
    const failed = h.eventCounts.get('tftp.failed') ?? 0;
    const retransmits = await h.metric('pureboot_tftp_retransmits_total');
    const dupAcks = await h.metric('pureboot_tftp_duplicate_acks_total');
    process.stdout.write(`tftp stats ${JSON.stringify({ done, failed, retransmits, dupAcks })}\n`);
    await h.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
})();
