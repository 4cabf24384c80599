/** The TFTP servers bench:tftp compares, each with the command line that serves `root`. */
import fs from 'node:fs';
import path from 'node:path';
import { missingTools, tsNodeArgs } from '@pureboot/core/testing';

export interface BenchServer {
  name: string;
  port: number;
  /** Grants RFC 7440 windowsize. */
  windowsize: boolean;
  /** One of PureBoot's own configurations (never a peer in the "vs best peer" column). */
  ours?: boolean;
  /** Left out unless BENCH_SERVERS names it. */
  optIn?: boolean;
  argv: string[];
  available(): boolean;
}

const ATFTPD = process.env.ATFTPD ?? (missingTools(['atftpd']).length === 0 ? 'atftpd' : '/tmp/pb-tftp-atftpd/x/usr/sbin/atftpd');

export function benchServers(root: string): BenchServer[] {
  const serve = path.join(__dirname, '..', 'test', 'support', 'serve.ts');
  return [
    {
      name: 'PureBoot',
      port: 16960,
      windowsize: true,
      ours: true,
      available: () => true,
      argv: [process.execPath, ...tsNodeArgs(), serve, '--root', root, '--address', '127.0.0.1', '--port', '16960', '--tftp', JSON.stringify({ maxTransfers: 5000, maxTransfersPerClient: 5000 })],
    },
    {
      // PureBoot with its transfer sockets on node:dgram instead of the batched native transport.
      name: 'PureBoot-dgram',
      port: 16963,
      windowsize: true,
      ours: true,
      optIn: true,
      available: () => true,
      argv: [process.execPath, ...tsNodeArgs(), serve, '--root', root, '--address', '127.0.0.1', '--port', '16963', '--tftp', JSON.stringify({ maxTransfers: 5000, maxTransfersPerClient: 5000, transport: 'dgram' })],
    },
    {
      // PureBoot on the native transport with one sendto per datagram (tftp.ioUring: false).
      name: 'PureBoot-sendto',
      port: 16964,
      windowsize: true,
      ours: true,
      optIn: true,
      available: () => true,
      argv: [process.execPath, ...tsNodeArgs(), serve, '--root', root, '--address', '127.0.0.1', '--port', '16964', '--tftp', JSON.stringify({ maxTransfers: 5000, maxTransfersPerClient: 5000, ioUring: false })],
    },
    {
      name: 'tftpd-hpa',
      port: 16961,
      windowsize: false,
      available: () => missingTools(['in.tftpd']).length === 0,
      argv: ['in.tftpd', '-L', '-4', '-a', '127.0.0.1:16961', '-s', root],
    },
    {
      name: 'atftpd',
      port: 16962,
      windowsize: true,
      available: () => fs.existsSync(ATFTPD) || missingTools([ATFTPD]).length === 0,
      argv: [ATFTPD, '--daemon', '--no-fork', '--port', '16962', '--bind-address', '127.0.0.1', '--logfile', '/dev/null', '--maxthread', '5000', '--user', 'root', '--group', 'root', root],
    },
    {
      name: 'dnsmasq',
      port: 69, // dnsmasq's TFTP listener port is fixed; fine inside the private namespace
      windowsize: false,
      available: () => missingTools(['dnsmasq']).length === 0,
      argv: ['dnsmasq', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${root}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--keep-in-foreground', '--tftp-max=5000', '--user=root', '--pid-file=', '--log-facility=/dev/null'],
    },
  ];
}
