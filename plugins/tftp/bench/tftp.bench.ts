/**
 * `npm run bench:tftp` — PureBoot's TFTP side by side with tftpd-hpa, atftpd and dnsmasq.
 *
 * Everything runs inside a private network namespace on its loopback; each server is pinned to
 * core 0 and the clients to core 1 (`taskset`). The same clients are used for every server:
 * curl (lock-step, `--tftp-blksize 1468`) and the project's own client (RFC 7440 windowsize, which
 * none of the packaged clients negotiates). Servers that do not grant windowsize run that row in
 * lock-step (marked `*`).
 *
 * atftpd conflicts with tftpd-hpa as a Debian package: when it is not installed, set ATFTPD to an
 * unpacked binary (`apt-get download atftpd && dpkg -x atftpd_*.deb DIR` → DIR/usr/sbin/atftpd).
 * Needs root (netns, dnsmasq's fixed port 69). BENCH_QUICK=1 uses smaller files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missingTools, NetLab, isRoot, tsNodeArgs, type RunningProcess } from '@pureboot/core/testing';
import { makeFile } from '../test/support/harness';

const QUICK = process.env.BENCH_QUICK === '1';
const BIG = (QUICK ? 16 : 64) * 1024 * 1024;
const TEN = (QUICK ? 2 : 10) * 1024 * 1024;
const PARALLEL = 20;
/** Each scenario runs this many times; the best run counts (the host is shared and noisy). */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
/** Comma-separated server names to run (default: all installed). */
const ONLY = process.env.BENCH_SERVERS?.split(',').map((x) => x.trim().toLowerCase());
const STORM = 200;
const ATFTPD = process.env.ATFTPD ?? (missingTools(['atftpd']).length === 0 ? 'atftpd' : '/tmp/pb-tftp-atftpd/x/usr/sbin/atftpd');

interface ServerSpec {
  name: string;
  port: number;
  windowsize: boolean;
  argv(root: string, port: number): string[];
  available(): boolean;
}

const here = __dirname;
const node = process.execPath;

const servers: ServerSpec[] = [
  {
    name: 'PureBoot',
    port: 16960,
    windowsize: true,
    available: () => true,
    argv: (root, port) => [
      node,
      ...tsNodeArgs(),
      path.join(here, '..', 'test', 'support', 'serve.ts'),
      '--root',
      root,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--tftp',
      JSON.stringify({ maxTransfers: 5000, maxTransfersPerClient: 5000 }),
    ],
  },
  { name: 'tftpd-hpa', port: 16961, windowsize: false, available: () => missingTools(['in.tftpd']).length === 0, argv: (root, port) => ['in.tftpd', '-L', '-4', '-a', `127.0.0.1:${port}`, '-s', root] },
  {
    name: 'atftpd',
    port: 16962,
    windowsize: true,
    available: () => fs.existsSync(ATFTPD) || missingTools([ATFTPD]).length === 0,
    argv: (root, port) => [ATFTPD, '--daemon', '--no-fork', '--port', String(port), '--bind-address', '127.0.0.1', '--logfile', '/dev/null', '--maxthread', '5000', '--user', 'root', '--group', 'root', root],
  },
  {
    name: 'dnsmasq',
    port: 69, // dnsmasq's TFTP listener port is fixed; fine inside the private namespace
    windowsize: false,
    available: () => missingTools(['dnsmasq']).length === 0,
    argv: (root) => ['dnsmasq', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${root}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--keep-in-foreground', '--tftp-max=5000', '--user=root', '--pid-file=', '--log-facility=/dev/null'],
  },
];

interface DriverResult {
  wallMs: number;
  ok: number;
  failed: number;
  bytes: number;
  errors: string[];
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('bench:tftp needs root (network namespace, taskset, dnsmasq on port 69)');
  const missing = missingTools(['curl', 'taskset', 'ip']);
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-bench-'));
  fs.chmodSync(root, 0o755);
  process.stdout.write(`preparing files in ${root} …\n`);
  const sums: Record<string, string> = {
    big: makeFile(root, 'big.bin', BIG),
    ten: makeFile(root, 'ten.bin', TEN),
    kpxe: makeFile(root, 'undionly.kpxe', 70 * 1024),
  };
  for (const f of fs.readdirSync(root)) fs.chmodSync(path.join(root, f), 0o644);
  const lab = new NetLab();
  const rows: Array<{ label: string; unit: string; values: Record<string, string> }> = [
    { label: `1 × ${BIG >> 20} MiB, blksize 1468, lock-step (curl)`, unit: 'MB/s', values: {} },
    { label: `1 × ${BIG >> 20} MiB, blksize 1468, windowsize 16 (own client)`, unit: 'MB/s', values: {} },
    { label: `${PARALLEL} × ${TEN >> 20} MiB in parallel, blksize 1468 (curl)`, unit: 'MB/s total', values: {} },
    { label: `${PARALLEL} × ${TEN >> 20} MiB in parallel (curl)`, unit: 'transfers/s', values: {} },
    { label: `boot storm: ${STORM} clients × 70 KiB at once, blksize 1468 (own client)`, unit: 'ms until all done', values: {} },
    { label: `boot storm: ${STORM} clients × 70 KiB`, unit: 'transfers/s (failures)', values: {} },
  ];
  const used: string[] = [];
  try {
    await lab.addNamespace('b');
    // tftpd-hpa resolves its -a address with AI_ADDRCONFIG, which wants a non-loopback IPv4 address.
    await lab.exec('b', ['ip', 'addr', 'add', '198.18.4.250/32', 'dev', 'lo']);
    const driverOnce = (args: string[]) =>
      lab.exec('b', ['taskset', '-c', '1', node, ...tsNodeArgs(), path.join(here, 'driver.ts'), ...args], { timeoutMs: 300000, allowFail: true }).then((r) => {
        const line = r.stdout.trim().split('\n').pop() ?? '';
        try {
          return JSON.parse(line) as DriverResult;
        } catch {
          throw new Error(`driver failed: ${r.stdout}\n${r.stderr}`);
        }
      });
    const driver = async (args: string[]): Promise<DriverResult> => {
      let best: DriverResult | undefined;
      for (let i = 0; i < REPEAT; i++) {
        const r = await driverOnce(args);
        if (!best || r.failed < best.failed || (r.failed === best.failed && r.wallMs < best.wallMs)) best = r;
      }
      return best as DriverResult;
    };
    for (const s of servers) {
      if (ONLY && !ONLY.includes(s.name.toLowerCase())) continue;
      if (!s.available()) {
        process.stdout.write(`skipping ${s.name}: not installed\n`);
        continue;
      }
      used.push(s.name);
      process.stdout.write(`${s.name}: starting on 127.0.0.1:${s.port} (core 0) …\n`);
      const proc: RunningProcess = lab.spawn('b', ['taskset', '-c', '0', ...s.argv(root, s.port)]);
      try {
        try {
          await waitReady(driverOnce, s.port, sums.kpxe);
        } catch (err) {
          process.stdout.write(`  ${s.name}: ${(err as Error).message}\n${proc.stderr().slice(-500)}\n`);
          for (const r of rows) r.values[s.name] = 'did not start';
          continue;
        }
        const mb = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);
        const a = await driver(['curl', '1', String(s.port), 'big.bin', '1468', String(BIG)]);
        rows[0].values[s.name] = a.failed ? `fail (${a.errors[0]})` : mb(a.bytes, a.wallMs);
        const b = await driver(['window', '1', String(s.port), 'big.bin', '1468', '16', sums.big]);
        rows[1].values[s.name] = b.failed ? `fail (${b.errors[0]})` : `${mb(b.bytes, b.wallMs)}${s.windowsize ? '' : '*'}`;
        const c = await driver(['curl', String(PARALLEL), String(s.port), 'ten.bin', '1468', String(TEN)]);
        rows[2].values[s.name] = `${mb(c.bytes, c.wallMs)}${c.failed ? ` (${c.failed} failed)` : ''}`;
        rows[3].values[s.name] = (c.ok / (c.wallMs / 1000)).toFixed(2);
        const d = await driver(['window', String(STORM), String(s.port), 'undionly.kpxe', '1468', '1', sums.kpxe]);
        rows[4].values[s.name] = d.wallMs.toFixed(0);
        rows[5].values[s.name] = `${(d.ok / (d.wallMs / 1000)).toFixed(0)} (${d.failed})`;
        for (const r of [a, b, c, d]) if (r.failed) process.stdout.write(`  ${s.name} failures: ${r.errors.join('; ')}\n`);
      } finally {
        await proc.stop('SIGTERM', 5000);
        const stats = /tftp stats (.*)/.exec(proc.stdout())?.[1];
        if (stats) process.stdout.write(`  ${s.name} server counters: ${stats}\n`);
      }
    }
  } finally {
    await lab.destroy();
    fs.rmSync(root, { recursive: true, force: true });
  }
  printTable(rows, used);
}

async function waitReady(driver: (args: string[]) => Promise<DriverResult>, port: number, sha: string): Promise<void> {
  const end = Date.now() + 15000;
  for (;;) {
    const r = await driver(['window', '1', String(port), 'undionly.kpxe', '512', '1', sha]).catch(() => undefined);
    if (r?.ok === 1) return;
    if (Date.now() > end) throw new Error(`server on port ${port} did not answer`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

function printTable(rows: Array<{ label: string; unit: string; values: Record<string, string> }>, cols: string[]): void {
  const head = ['scenario', 'unit', ...cols];
  const body = rows.map((r) => [r.label, r.unit, ...cols.map((c) => r.values[c] ?? '-')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${body.map(line).join('\n')}\n`);
  process.stdout.write(`\n* the server does not grant RFC 7440 windowsize: that row ran lock-step. Host: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}.\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
