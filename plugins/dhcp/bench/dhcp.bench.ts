// npm run bench:dhcp — perfdhcp (acting as a relay) against PureBoot, Kea and dnsmasq, side by side.
// Every server runs in its own pair of namespaces (server side pinned to CPU 0; perfdhcp, the relay,
// pinned to CPU 1, perfdhcp -g single), all started at once. The rate steps up, and at each step the
// servers still in the race are measured one after the other: this machine's speed drifts by a third
// within a minute, so the servers are compared in the same minute rather than one after another. A
// server leaves the race when a step loses more than 1 % of its exchanges twice; the table shows its
// highest rate with ≤ 1 % loss, the DORA/s achieved there and the average latency.
// Addresses: the whole test range 198.18.0.0/15 inside the bench's own namespaces: a pool of 130 810
// addresses for 100 000 simulated clients (PB_BENCH_CLIENTS), as the issue asks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NetLab, missingTools, isRoot } from '@pureboot/core/testing';

const SECONDS = Number(process.env.PB_BENCH_SECONDS ?? 5);
const RATES = (process.env.PB_BENCH_RATES ?? '100,250,500,1000,2000,4000,6000,8000,10000,11000,12000,13000,14000,15000,16000,18000').split(',').map(Number);
const CLIENTS = Number(process.env.PB_BENCH_CLIENTS ?? 100000);
const SUBNET = '198.18.0.0/15';
const SERVER = '198.18.0.1';
const RELAY = '198.18.0.2';
const POOL = ['198.18.1.1', '198.19.255.250'];

interface Run {
  rate: number;
  sent: number;
  received: number;
  lossPct: number;
  doraPerSec: number;
  avgMs: number;
}

interface Row {
  server: string;
  best?: Run;
  runs: Run[];
  note?: string;
}

function parsePerfdhcp(out: string, rate: number): Run {
  const nums = (re: RegExp) => [...out.matchAll(re)].map((m) => Number(m[1]));
  const sent = nums(/sent packets: (\d+)/g);
  const received = nums(/received packets: (\d+)/g);
  const avg = nums(/avg delay: ([\d.]+) ms/g);
  // Two exchanges: DISCOVER-OFFER, then REQUEST-ACK; a DORA is complete when its ACK arrived.
  const discovers = sent[0] ?? 0;
  const acks = received[1] ?? 0;
  const lossPct = discovers > 0 ? (100 * (discovers - acks)) / discovers : 100;
  return { rate, sent: discovers, received: acks, lossPct, doraPerSec: acks / SECONDS, avgMs: (avg[0] ?? 0) + (avg[1] ?? 0) };
}

async function waitFor(child: ChildProcess, what: RegExp | number, label: string): Promise<void> {
  if (typeof what === 'number') return new Promise((r) => setTimeout(r, what));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${label} did not start: ${buf}`)), 30000);
    const on = (d: Buffer) => {
      buf += d.toString();
      if (what.test(buf)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${label} exited (${code}): ${buf}`));
    });
  });
}

async function stopProc(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

/** One server's own namespaces: its side (interface `srv`) and the relay side perfdhcp runs in. */
interface Lane {
  srv: string;
  rly: string;
  ifname: string;
}

function perfdhcp(lab: NetLab, lane: Lane, rate: number, seconds: number): Promise<{ stdout: string }> {
  return lab.exec(
    lane.rly,
    ['taskset', '-c', '1', 'perfdhcp', '-4', '-g', 'single', '-l', RELAY, '-r', String(rate), '-R', String(CLIENTS), '-p', String(seconds), '-d', '2', SERVER],
    { timeoutMs: (seconds + 30) * 1000, allowFail: true },
  );
}

/** PB_BENCH_ONLY=<regex> limits the run to matching servers (e.g. "PureBoot"). */
const ONLY = process.env.PB_BENCH_ONLY ? new RegExp(process.env.PB_BENCH_ONLY, 'i') : undefined;

interface Contender {
  row: Row;
  lane: Lane;
  child: ChildProcess;
  racing: boolean;
}

/**
 * The race: a warm-up for each server (JIT, caches, socket paths: 2 s at 200/s, then 3 s at 3 000/s),
 * then each rate step for every server still racing, one after the other.
 */
async function race(lab: NetLab, contenders: Contender[]): Promise<void> {
  for (const c of contenders) {
    await perfdhcp(lab, c.lane, 200, 2);
    await perfdhcp(lab, c.lane, 3000, 3);
  }
  for (const [step, rate] of RATES.entries()) {
    const racing = contenders.filter((c) => c.racing);
    if (racing.length === 0) break;
    // Each step starts with a different server: none always runs right after the ones that write
    // the most (the kernel's writeback of their files would land on it).
    const turn = step % racing.length;
    for (const c of [...racing.slice(turn), ...racing.slice(0, turn)]) {
      // The host is shared: a step that loses > 1 % is tried once more before the server leaves.
      let run: Run | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        run = parsePerfdhcp((await perfdhcp(lab, c.lane, rate, SECONDS)).stdout, rate);
        c.row.runs.push(run);
        process.stderr.write(`${c.row.server} @ ${rate}/s: ${run.doraPerSec.toFixed(0)} DORA/s, loss ${run.lossPct.toFixed(2)} %, avg ${run.avgMs.toFixed(2)} ms\n`);
        // let queues drain between runs
        await new Promise((r) => setTimeout(r, 1500));
        if (run.lossPct <= 1) break;
      }
      if (run && run.lossPct <= 1) c.row.best = run;
      else {
        c.racing = false;
        await stopProc(c.child);
      }
    }
  }
}

const FROM_SOURCE = process.env.PB_BENCH_SOURCE === '1';

/** Build dist/ (incremental) so PureBoot runs as an installed package would. */
function buildDist(): void {
  const root = path.resolve(__dirname, '../../..');
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', path.join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tsc -b failed: the benchmark runs the compiled packages');
}

async function main(): Promise<void> {
  if (!FROM_SOURCE) buildDist();
  if (!isRoot()) throw new Error('the DHCP benchmark needs root (network namespaces, port 67)');
  const missing = missingTools(['perfdhcp', 'taskset', 'ip']);
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-dhcp-bench-'));
  const lab = new NetLab();
  const rows: Row[] = [];
  const contenders: Contender[] = [];
  try {
    const inSrv = (lane: Lane, argv: string[], env?: NodeJS.ProcessEnv) => {
      const child = spawn('ip', ['netns', 'exec', lab.ns(lane.srv), 'taskset', '-c', '0', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
      // Always drain the output: a full pipe would stall the server under test. PB_BENCH_SERVER_LOG=<file>
      // keeps it (e.g. with PB_BENCH_NODE_ARGS=--trace-gc).
      const keep = process.env.PB_BENCH_SERVER_LOG ? fs.createWriteStream(process.env.PB_BENCH_SERVER_LOG, { flags: 'a' }) : undefined;
      child.stdout.on('data', (d: Buffer) => keep?.write(d));
      child.stderr.on('data', (d: Buffer) => keep?.write(d));
      return child;
    };

    const pureboot = (storage: 'storage-file' | 'storage-memory', fileOptions: Record<string, unknown> = {}) => async (lane: Lane) => {
      const data = fs.mkdtempSync(path.join(dir, `${storage}-`));
      const cfgFile = path.join(data, 'config.json');
      fs.writeFileSync(
        cfgFile,
        JSON.stringify({
          plugins: [storage, 'dhcp'],
          server: { dataDir: data, logLevel: 'warn' },
          ...(storage === 'storage-file' ? { 'storage-file': fileOptions } : {}),
          dhcp: {
            listen: [{ interface: lane.ifname, address: SERVER }],
            maxNewOffersPerSec: 0,
            subnets: [{ id: 'bench', cidr: SUBNET, pools: [POOL.join('-')], router: [SERVER], leaseTimeSec: 3600 }],
          },
        }),
      );
      // node itself (not the run-ts.js wrapper) so that stopping the process stops the server.
      // PB_BENCH_NODE_ARGS: extra node flags for PureBoot (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
      const nodeArgs = (process.env.PB_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
      // The packages as installed (compiled dist/); PB_BENCH_SOURCE=1 runs the TypeScript sources through tsx.
      if (FROM_SOURCE) nodeArgs.push('--conditions=pureboot-source');
      const child = inSrv(lane, [process.execPath, ...nodeArgs, '--require', require.resolve('tsx/cjs'), path.join(__dirname, 'serve.ts'), cfgFile]);
      await waitFor(child, /ready/, 'PureBoot');
      return child;
    };

    const kea = async (lane: Lane) => {
      const data = fs.mkdtempSync(path.join(dir, 'kea-'));
      const cfg = {
        Dhcp4: {
          'interfaces-config': { interfaces: [lane.ifname], 'dhcp-socket-type': 'udp' },
          'lease-database': { type: 'memfile', persist: true, name: path.join(data, 'leases.csv'), 'lfc-interval': 0 },
          'valid-lifetime': 3600,
          subnet4: [{ id: 1, subnet: SUBNET, pools: [{ pool: `${POOL[0]} - ${POOL[1]}` }], 'option-data': [{ name: 'routers', data: SERVER }] }],
          // WARN: Kea logs every lease at INFO, which would slow it down.
          loggers: [{ name: 'kea-dhcp4', severity: 'WARN', output_options: [{ output: 'stdout' }] }],
        },
      };
      const cfgFile = path.join(data, 'kea.json');
      fs.writeFileSync(cfgFile, JSON.stringify(cfg));
      const child = inSrv(lane, ['kea-dhcp4', '-c', cfgFile], { ...process.env, KEA_PIDFILE_DIR: data, KEA_LOCKFILE_DIR: data });
      await waitFor(child, 1500, 'Kea');
      if (child.exitCode !== null) throw new Error('kea-dhcp4 exited');
      return child;
    };

    const dnsmasq = async (lane: Lane) => {
      const data = fs.mkdtempSync(path.join(dir, 'dnsmasq-'));
      const child = inSrv(lane, [
        'dnsmasq',
        '--conf-file=/dev/null',
        '--port=0',
        '--keep-in-foreground',
        '--log-facility=-',
        '--quiet-dhcp',
        '--dhcp-authoritative',
        '--no-ping', // PureBoot and Kea do not ICMP-probe before offering either
        '--dhcp-lease-max=200000', // the default (1000) would refuse most of the 100 000 clients
        `--dhcp-range=${POOL[0]},${POOL[1]},255.254.0.0,1h`,
        `--dhcp-leasefile=${path.join(data, 'leases')}`,
        `--pid-file=${path.join(data, 'pid')}`,
      ]);
      await waitFor(child, 1000, 'dnsmasq');
      if (child.exitCode !== null) throw new Error('dnsmasq exited');
      return child;
    };

    const servers: Array<{ name: string; tool?: string; start: (lane: Lane) => Promise<ChildProcess> }> = [
      { name: 'PureBoot (storage-file, fsync group: the default)', start: pureboot('storage-file') },
      // Kea's memfile writes each lease with write(2) and never fsyncs: the same guarantee is fsync never.
      { name: "PureBoot (storage-file, fsync never: Kea memfile's durability)", start: pureboot('storage-file', { fsync: 'never' }) },
      ...(process.env.PB_BENCH_FILE_OPTIONS ? [{ name: `PureBoot (storage-file ${process.env.PB_BENCH_FILE_OPTIONS})`, start: pureboot('storage-file', JSON.parse(process.env.PB_BENCH_FILE_OPTIONS) as Record<string, unknown>) }] : []),
      { name: 'PureBoot (storage-memory)', start: pureboot('storage-memory') },
      { name: 'Kea kea-dhcp4 (memfile, persist)', tool: 'kea-dhcp4', start: kea },
      { name: 'dnsmasq (lease file, --no-ping)', tool: 'dnsmasq', start: dnsmasq },
    ];
    for (const [i, server] of servers.entries()) {
      const row: Row = { server: server.name, runs: [] };
      rows.push(row);
      if (ONLY && !ONLY.test(server.name)) {
        row.note = 'skipped (PB_BENCH_ONLY)';
        continue;
      }
      if (server.tool && missingTools([server.tool]).length) {
        row.note = `${server.tool} not installed`;
        continue;
      }
      const lane: Lane = { srv: `s${i}`, rly: `r${i}`, ifname: `srv${i}` };
      await lab.addNamespace(lane.srv);
      await lab.addNamespace(lane.rly);
      await lab.veth({ ns: lane.srv, ifname: lane.ifname, cidr: `${SERVER}/15` }, { ns: lane.rly, ifname: `rly${i}`, cidr: `${RELAY}/15` });
      contenders.push({ row, lane, child: await server.start(lane), racing: true });
    }
    await race(lab, contenders);
  } finally {
    for (const c of contenders) await stopProc(c.child);
    await lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const keaRate = rows.find((r) => r.server.startsWith('Kea'))?.best?.doraPerSec;
  const lines = [
    `perfdhcp relay, ${CLIENTS} clients, ${SECONDS} s per step, servers on CPU 0 (each in its own namespaces, measured in turn at every step), perfdhcp on CPU 1; best step with <= 1 % loss`,
    '',
    '| server | offered rate (/s) | DORA/s | loss % | avg DORA latency (ms) | vs Kea |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      r.best
        ? `| ${r.server} | ${r.best.rate} | ${r.best.doraPerSec.toFixed(0)} | ${r.best.lossPct.toFixed(2)} | ${r.best.avgMs.toFixed(2)} | ${keaRate ? (r.best.doraPerSec / keaRate).toFixed(2) + '×' : '–'} |`
        : `| ${r.server} | – | – | – | – | ${r.note ?? `> 1 % loss already at ${r.runs[0]?.rate ?? '?'}/s`} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
