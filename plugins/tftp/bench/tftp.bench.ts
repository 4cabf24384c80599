/**
 * `npm run bench:tftp` — PureBoot's TFTP side by side with tftpd-hpa, atftpd and dnsmasq.
 *
 * Everything runs inside a private network namespace on its loopback. All servers run at once, each
 * pinned to core 0; the clients run pinned to core 1 (`taskset`). This host's speed drifts by about a
 * third within a minute, so servers measured one after another are not comparable: every scenario is
 * measured in ROUNDS rounds, and in each round every server runs it once, in an order that rotates
 * from round to round. The table gives each server's median, and "vs best peer" is the median of the
 * per-round ratios of PureBoot to the best peer of that same round (> 1 is better for PureBoot, for
 * times as well as for throughputs).
 *
 * The same clients are used for every server: curl (lock-step, `--tftp-blksize 1468`), the project's
 * own node client (RFC 7440 windowsize, which none of the packaged clients negotiates) and, for the
 * boot storm, a C client (bench/storm-client.c, built with cc at the start): 200 transfers on one
 * epoll set at a few microseconds per datagram, so the server is what the storm measures. The node
 * client's storm row is kept beside it: that client needs 40-50 us per datagram, one core of it is
 * saturated against any server ("client CPU"), and every server's time converges on the client's.
 * Servers that do not grant windowsize run that row in lock-step (marked `*`, and left out of its
 * ratio).
 *
 * atftpd conflicts with tftpd-hpa as a Debian package: when it is not installed, set ATFTPD to an
 * unpacked binary (`apt-get download atftpd && dpkg -x atftpd_*.deb DIR` → DIR/usr/sbin/atftpd).
 * Needs root (netns, dnsmasq's fixed port 69). Environment: BENCH_QUICK=1 (smaller files),
 * PB_BENCH_ROUNDS (5), BENCH_SERVERS (comma-separated names; `pureboot-dgram` adds PureBoot with its
 * transfer sockets on node:dgram instead of the batched native transport, `pureboot-sendto` PureBoot
 * on the native transport without io_uring: one sendto per datagram), BENCH_SCENARIOS
 * (comma-separated: lockstep, window, parallel, storm, storm-node; all by default), BENCH_WARMUP
 * (warm-up passes of every scenario on every server before the measured rounds; 1, and 20 of the
 * storms, which take a tenth of a second: a long-running PureBoot has long had its per-request code
 * compiled by V8, and 20 storms are 4 000 requests).
 *
 * Each run starts SETTLE_MS after the one before it. PureBoot closes the sockets of finished
 * transfers, and refills its socket pool, once it has been quiet for 50 ms (tftp.socketPool); run
 * back to back, that work of PureBoot's would land in the next server's run, on the same core.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missingTools, NetLab, isRoot, tsNodeArgs, type RunningProcess } from '@pureboot/core/testing';
import { makeFile } from '../test/support/harness';
import { benchServers, type BenchServer } from './servers';
import { printTable, type Scenario } from './table';

const QUICK = process.env.BENCH_QUICK === '1';
const BIG = (QUICK ? 16 : 64) * 1024 * 1024;
const TEN = (QUICK ? 2 : 10) * 1024 * 1024;
const PARALLEL = 20;
const STORM = 200;
const ROUNDS = Number(process.env.PB_BENCH_ROUNDS ?? 5);
const ONLY = process.env.BENCH_SERVERS?.split(',').map((x) => x.trim().toLowerCase());
const WARMUP = process.env.BENCH_WARMUP === undefined ? undefined : Number(process.env.BENCH_WARMUP);
const STORM_WARMUP = 20;
const SETTLE_MS = 200;
const SCENARIOS = process.env.BENCH_SCENARIOS?.split(',').map((x) => x.trim().toLowerCase());
const node = process.execPath;

interface DriverResult {
  wallMs: number;
  ok: number;
  failed: number;
  bytes: number;
  errors: string[];
  /** Busy seconds of the servers' core during the run. */
  serverCpu?: number;
  /** CPU seconds of the client process between the start of its transfers and the end of the last (user + system). */
  clientCpu?: number;
}

/**
 * Busy seconds of CPU 0, where every server runs (/proc/stat: all but idle and iowait, in 10 ms
 * ticks). The idle servers use next to nothing, so this is the measured server's CPU time, its forked
 * children and threads included, plus the kernel's work on that core.
 */
function cpuSeconds(core: number): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${core} `));
  if (!line) return NaN;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = f.reduce((a, b) => a + b, 0) - f[3] - f[4];
  return busy / 100;
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('bench:tftp needs root (network namespace, taskset, dnsmasq on port 69)');
  const missing = missingTools(['curl', 'taskset', 'ip']);
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-bench-'));
  fs.chmodSync(root, 0o755);
  process.stdout.write(`preparing files in ${root} …\n`);
  const sums = { big: makeFile(root, 'big.bin', BIG), ten: makeFile(root, 'ten.bin', TEN), kpxe: makeFile(root, 'undionly.kpxe', 70 * 1024) };
  for (const f of fs.readdirSync(root)) fs.chmodSync(path.join(root, f), 0o644);

  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-bench-bin-'));
  const stormClient = compileStormClient(bin);
  const mb = (r: DriverResult) => r.bytes / 1e6 / (r.wallMs / 1000);
  const all: Array<Scenario<DriverResult> & { key: string }> = [
    { key: 'lockstep', label: `1 × ${BIG >> 20} MiB, blksize 1468, lock-step (curl)`, unit: 'MB/s', higherIsBetter: true, args: (p) => ['curl', '1', String(p), 'big.bin', '1468', String(BIG)], value: mb },
    { key: 'window', label: `1 × ${BIG >> 20} MiB, blksize 1468, windowsize 16 (own client)`, unit: 'MB/s', higherIsBetter: true, windowsize: true, args: (p) => ['window', '1', String(p), 'big.bin', '1468', '16', sums.big], value: mb },
    { key: 'parallel', label: `${PARALLEL} × ${TEN >> 20} MiB in parallel, blksize 1468 (curl)`, unit: 'MB/s total', higherIsBetter: true, args: (p) => ['curl', String(PARALLEL), String(p), 'ten.bin', '1468', String(TEN)], value: mb },
    { key: 'storm', label: `boot storm: ${STORM} clients × 70 KiB at once, blksize 1468 (C client)`, unit: 'ms until all done', higherIsBetter: false, args: (p) => ['c', String(STORM), String(p), 'undionly.kpxe', '1468', '1', path.join(root, 'undionly.kpxe')], value: (r) => r.wallMs },
    { key: 'storm-node', label: `boot storm: ${STORM} clients × 70 KiB at once, blksize 1468 (node client)`, unit: 'ms until all done', higherIsBetter: false, args: (p) => ['window', String(STORM), String(p), 'undionly.kpxe', '1468', '1', sums.kpxe], value: (r) => r.wallMs },
  ];
  const unknown = SCENARIOS?.filter((k) => !all.some((sc) => sc.key === k)) ?? [];
  if (unknown.length) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (one of ${all.map((sc) => sc.key).join(', ')})`);
  const scenarios = SCENARIOS ? all.filter((sc) => SCENARIOS.includes(sc.key)) : all;

  const lab = new NetLab();
  const running: Array<{ s: BenchServer; proc: RunningProcess }> = [];
  try {
    await lab.addNamespace('b');
    // tftpd-hpa resolves its -a address with AI_ADDRCONFIG, which wants a non-loopback IPv4 address.
    await lab.exec('b', ['ip', 'addr', 'add', '198.18.4.250/32', 'dev', 'lo']);
    // `c` runs the C storm client (bench/storm-client.c), anything else the node driver.
    const driver = (args: string[]) =>
      lab.exec('b', ['taskset', '-c', '1', ...(args[0] === 'c' ? [stormClient, ...args.slice(1)] : [node, ...tsNodeArgs(), path.join(__dirname, 'driver.ts'), ...args])], { timeoutMs: 300000, allowFail: true }).then((r) => {
        const line = r.stdout.trim().split('\n').pop() ?? '';
        try {
          return JSON.parse(line) as DriverResult;
        } catch {
          throw new Error(`driver failed: ${r.stdout}\n${r.stderr}`);
        }
      });

    for (const s of benchServers(root)) {
      if (ONLY ? !ONLY.includes(s.name.toLowerCase()) : s.optIn) continue;
      if (!s.available()) {
        process.stdout.write(`skipping ${s.name}: not installed\n`);
        continue;
      }
      process.stdout.write(`${s.name}: starting on 127.0.0.1:${s.port} (core 0) …\n`);
      const proc = lab.spawn('b', ['taskset', '-c', '0', ...s.argv]);
      try {
        await waitReady(driver, s.port, sums.kpxe);
        running.push({ s, proc });
      } catch (err) {
        process.stdout.write(`  ${s.name}: ${(err as Error).message}\n${proc.stderr().slice(-500)}\n`);
        await proc.stop('SIGTERM', 5000);
      }
    }
    if (!running.some((r) => r.s.name === 'PureBoot')) throw new Error('PureBoot did not start');

    // Warm-up: passes of every scenario on every server (JIT, page cache, the hot-file cache).
    for (const sc of scenarios) {
      const passes = WARMUP ?? (sc.key.startsWith('storm') ? STORM_WARMUP : 1);
      for (let pass = 0; pass < passes; pass++) for (const { s } of running) await driver(sc.args(s.port));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, sc] of scenarios.entries()) {
        const order = running.map((_, k) => running[(k + round + i) % running.length]);
        for (const { s } of order) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const cpu0 = cpuSeconds(0);
          const r = await driver(sc.args(s.port));
          r.serverCpu = cpuSeconds(0) - cpu0;
          (sc.results ??= {})[s.name] ??= [];
          sc.results[s.name].push(r);
          if (r.failed) process.stdout.write(`  round ${round + 1} ${s.name} ${sc.label}: ${r.failed} failed (${r.errors.join('; ')})\n`);
        }
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    for (const { s, proc } of running) {
      await proc.stop('SIGTERM', 5000);
      const stats = /tftp stats (.*)/.exec(proc.stdout())?.[1];
      if (stats) process.stdout.write(`${s.name} server counters: ${stats}\n`);
    }
    await lab.destroy();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(bin, { recursive: true, force: true });
  }
  const cols = running.map((r) => r.s);
  printTable(scenarios, cols, ROUNDS, (r) => r.serverCpu ?? NaN, (r) => r.clientCpu ?? NaN);
}

/** Build bench/storm-client.c into the bench's temporary folder (cc -O2). */
function compileStormClient(dir: string): string {
  const out = path.join(dir, 'storm-client');
  const r = spawnSync('cc', ['-O2', '-o', out, path.join(__dirname, 'storm-client.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the C storm client (cc -O2 bench/storm-client.c; apt-get install gcc): ${r.error?.message ?? r.stderr}`);
  return out;
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

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
