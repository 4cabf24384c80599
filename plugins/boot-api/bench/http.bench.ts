/**
 * npm run bench:http — how fast PureBoot serves machine scripts, side by side with peers on this machine.
 *
 * Targets (each its own process pinned to CPU 0 with taskset; wrk pinned to CPU 1; all on 127.0.0.1):
 *   bare fastify        a fastify route returning a constant iPXE script (the ceiling for any fastify app),
 *                       once at each PureBoot row's URL (/boot/MAC?…, and the long /api/v1/boot?mac=…&…)
 *   PureBoot's fastify  the same constant route on the boot API's fastify instance (its HTTP stack alone)
 *   busybox httpd       busybox httpd serving one static iPXE file per machine (a static peer)
 *   python http.server  python3 -m http.server serving the same files
 *   PureBoot /boot/MAC  the boot API with N machines stored (active → local boot script), MACs rotated
 *   PureBoot /api/v1/boot?mac=  the same through the long form with iPXE variables
 * Every request of the PureBoot rows is a full boot-script request: store lookup, group/profile selection,
 * lifecycle script, scriptRender hook, metrics, and an http.script boot event appended to the timeline.
 * PureBoot runs from the compiled packages (dist/, built first), as installed; PB_BENCH_SOURCE=1 runs
 * the TypeScript sources.
 *
 * This machine's speed drifts by a third within a minute, and by a fifth between two runs a few seconds
 * apart (shared host), so a ratio is only as good as the time between its two runs. Each round measures
 * every target in a pair with its baseline, back to back (bare fastify at the same URL: the same request
 * line and query string, which fastify parses for any route), baseline first in one round and second
 * in the next, so a steady drift favours neither; the pairs' order rotates from round to round. "vs
 * bare" is the median over the ROUNDS rounds of the target's rate over its pair's baseline rate; the
 * other columns are medians of the target's runs; "vs bare /boot" is the ratio of the medians to the
 * bare route at the short URL.
 *
 * Environment: PB_BENCH_STORAGE (storage-memory; or storage-file …), PB_BENCH_MACHINES (10000),
 * PB_BENCH_SECONDS (4, per round), PB_BENCH_ROUNDS (5), PB_BENCH_CONNECTIONS (32), PB_BENCH_THREADS (1).
 * Issue 7 target: PureBoot ≥ 0.7× the bare route's requests/s at the same URL, p99 < 10 ms.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { median } from '@pureboot/core/testing';
import { macOf } from './http-servers';

const exec = promisify(execFile);

const MACHINES = Number(process.env.PB_BENCH_MACHINES ?? 10000);
const SECONDS = Number(process.env.PB_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.PB_BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.PB_BENCH_CONNECTIONS ?? 32);
const THREADS = Number(process.env.PB_BENCH_THREADS ?? 1);
const WARMUP_SECONDS = 3;
const FROM_SOURCE = process.env.PB_BENCH_SOURCE === '1';

interface Row {
  target: string;
  rps: number;
  /** Median over the rounds of rps / that round's bare fastify rps at the same URL. */
  ratio: number;
  /** The same against the bare route at the short URL. */
  ratioShort: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  bytes: number;
  note: string;
}


/** wrk Lua: rotate over the N machines; `{mac}` / `{hy}` in the path become the colon / hyphen MAC. */
function luaScript(dir: string, pathTemplate: string | undefined): string | undefined {
  if (!pathTemplate) return undefined;
  const file = path.join(dir, `rotate-${Math.random().toString(36).slice(2)}.lua`);
  const [pre, post] = pathTemplate.includes('{mac}') ? pathTemplate.split('{mac}') : pathTemplate.split('{hy}');
  const sep = pathTemplate.includes('{mac}') ? ':' : '-';
  fs.writeFileSync(
    file,
    `local n = 0
local count = ${MACHINES}
request = function()
  local i = n % count
  n = n + 1
  local mac = string.format("02${sep}00${sep}00${sep}00${sep}%02x${sep}%02x", math.floor(i / 256), i % 256)
  return wrk.format("GET", ${JSON.stringify(pre)} .. mac .. ${JSON.stringify(post)})
end
`,
  );
  return file;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60000;
}

async function wrk(url: string, lua: string | undefined, seconds: number): Promise<Run> {
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '--timeout', '5s', ...(lua ? ['-s', lua] : []), url];
  const { stdout } = await exec('taskset', ['-c', '1', 'wrk', ...args], { timeout: (seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p50 = toMs(/\n\s+50%\s+(\S+)/.exec(stdout)?.[1] ?? '');
  const p99 = toMs(/\n\s+99%\s+(\S+)/.exec(stdout)?.[1] ?? '');
  const max = toMs(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(stdout)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]) : 0);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const bytesTotal = /requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read/.exec(stdout);
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;
  const bytes = bytesTotal && total ? (Number(bytesTotal[1]) * mult[bytesTotal[2] as keyof typeof mult]) / total : 0;
  return { rps, p50, p99, max, errors, bytes };
}

/** One wrk run. */
type Run = Omit<Row, 'target' | 'note' | 'ratio' | 'ratioShort'>;

/** One target: where it listens and what to ask. */
interface Target {
  name: string;
  base: string;
  pathTemplate: string;
  note: string;
  lua?: string;
  url?: string;
  runs: Array<Run>;
  /** The bare fastify target at the same URL (undefined for the bare rows). */
  baseline?: Target;
  /** Per round: this target's rate over its baseline's rate in the same pair of runs. */
  ratios: number[];
}

async function prepare(name: string, base: string, pathTemplate: string, dir: string, note: string): Promise<Target> {
  const rotating = /\{(mac|hy)\}/.test(pathTemplate);
  // sanity: one real request answers 200 with an iPXE script
  const probe = await fetch(`${base}${pathTemplate.replace('{mac}', macOf(1, ':')).replace('{hy}', macOf(1, '-'))}`);
  const text = await probe.text();
  if (probe.status !== 200 || !text.startsWith('#!ipxe')) throw new Error(`${name}: probe answered ${probe.status}: ${text.slice(0, 200)}`);
  const t: Target = { name, base, pathTemplate, note, runs: [], ratios: [], lua: rotating ? luaScript(dir, pathTemplate) : undefined, url: rotating ? base : `${base}${pathTemplate}` };
  await wrk(t.url!, t.lua, WARMUP_SECONDS);
  return t;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Start a server process on CPU 0 and wait until its port answers. */
async function startServer(cmd: string, args: string[], port: number, cwd: string, env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', cmd, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  try {
    await waitForPort(port, child, 60000);
  } catch (e) {
    await stopChild(child);
    throw new Error(`${(e as Error).message}${err ? `: ${err}` : ''}`);
  }
  return child;
}

function table(rows: Row[]): string {
  const head = ['target', 'req/s', 'vs bare', 'vs bare /boot', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'B/resp', 'note'];
  const body = rows.map((r) => [
    r.target,
    r.rps.toFixed(0),
    `${r.ratio.toFixed(2)}×`,
    `${r.ratioShort.toFixed(2)}×`,
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.max.toFixed(1),
    String(r.errors),
    r.bytes.toFixed(0),
    r.note,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Build dist/ (incremental) so PureBoot runs as an installed package would. */
function buildDist(): void {
  const root = path.resolve(__dirname, '../../..');
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', path.join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tsc -b failed: the benchmark runs the compiled packages');
}

async function main(): Promise<void> {
  for (const tool of ['wrk', 'taskset']) {
    try {
      await exec('sh', ['-c', `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is not installed (apt-get install -y ${tool === 'taskset' ? 'util-linux' : tool})`);
    }
  }
  if (!FROM_SOURCE) buildDist();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-http-'));
  const children: ChildProcess[] = [];
  const rows: Row[] = [];
  try {
    process.stderr.write(`boot API benchmark: ${MACHINES} machines, wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS}s (after ${WARMUP_SECONDS}s warm-up), servers on CPU 0, wrk on CPU 1, node ${process.version}\n`);
    const here = path.resolve(__dirname);
    const nodeArgs = ['--require', require.resolve('tsx/cjs'), ...(FROM_SOURCE ? ['--conditions=pureboot-source'] : []), path.join(here, 'http-servers.ts')];

    // PureBoot with N stored machines.
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const pbPort = await freePort();
    children.push(await startServer(process.execPath, [...nodeArgs, 'pureboot', String(pbPort), dataDir, String(MACHINES)], pbPort, here));
    const pbBase = `http://127.0.0.1:${pbPort}`;

    // The static peers and the bare route serve exactly what PureBoot serves each machine.
    const root = path.join(dir, 'www');
    fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
    const sample = await (await fetch(`${pbBase}/boot/${macOf(0, ':')}?buildarch=x86_64&platform=efi`)).text();
    const put = await fetch(`${pbBase}/bench/constant`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: sample });
    if (!put.ok) throw new Error(`cannot set the constant route: ${put.status}`);
    fs.writeFileSync(path.join(dir, 'sample.ipxe'), sample);
    for (let i = 0; i < MACHINES; i++) fs.writeFileSync(path.join(root, 'boot', macOf(i, '-')), sample.split(macOf(0, ':')).join(macOf(i, ':')));

    const barePort = await freePort();
    children.push(await startServer(process.execPath, [...nodeArgs, 'bare', String(barePort), path.join(dir, 'sample.ipxe')], barePort, here));
    const SHORT = '/boot/{mac}?buildarch=x86_64&platform=efi';
    const LONG = '/api/v1/boot?mac={hy}&buildarch=x86_64&platform=efi&uuid=00000000-0000-0000-0000-000000000001&serial=SN1&ip=198.18.0.10';
    const bareShort = await prepare('bare fastify (constant)', `http://127.0.0.1:${barePort}`, SHORT, dir, 'same script bytes, no work');
    const bareLong = await prepare('bare fastify, long URL (constant)', `http://127.0.0.1:${barePort}`, LONG, dir, 'same, at the long form\'s URL');
    const targets: Target[] = [bareShort, bareLong];
    for (const [name, cmd, args, note] of [
      ['busybox httpd (static)', 'busybox', (p: number) => ['httpd', '-f', '-p', `127.0.0.1:${p}`, '-h', root], `${MACHINES} files; no keep-alive`],
      ['python3 http.server (static)', '/usr/bin/python3', (p: number) => ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', root, String(p)], `${MACHINES} files; HTTP/1.0`],
    ] as const) {
      try {
        const port = await freePort();
        children.push(await startServer(cmd, args(port), port, root));
        targets.push(await prepare(name, `http://127.0.0.1:${port}`, '/boot/{hy}', dir, note));
      } catch (err) {
        process.stderr.write(`  ${name}: skipped (${(err as Error).message})\n`);
      }
    }
    targets.push(await prepare("PureBoot's fastify, constant", pbBase, '/bench/constant/{mac}', dir, 'same bytes, no boot logic'));
    const storage = process.env.PB_BENCH_STORAGE ?? 'storage-memory';
    targets.push(await prepare('PureBoot /boot/MAC', pbBase, SHORT, dir, `${MACHINES} stored (${storage})`));
    const pbLong = await prepare('PureBoot /api/v1/boot?mac=', pbBase, LONG, dir, 'long form, iPXE variables');
    targets.push(pbLong);
    for (const t of targets) if (t !== bareShort && t !== bareLong) t.baseline = t === pbLong ? bareLong : bareShort;
    const measured = targets.filter((t) => t.baseline);

    for (let round = 1; round <= ROUNDS; round++) {
      // Each round starts with another pair: none always runs right after the static servers'
      // connection-per-request load (thousands of sockets in TIME_WAIT), or always first.
      const report: string[] = [];
      for (let k = 0; k < measured.length; k++) {
        const t = measured[(k + round - 1) % measured.length];
        const base = t.baseline!;
        const baseFirst = (round + k) % 2 === 0;
        const order = baseFirst ? [base, t] : [t, base];
        const first = await wrk(order[0].url!, order[0].lua, SECONDS);
        const second = await wrk(order[1].url!, order[1].lua, SECONDS);
        const [b, r] = baseFirst ? [first, second] : [second, first];
        base.runs.push(b);
        t.runs.push(r);
        t.ratios.push(r.rps / b.rps);
        report.push(`${t.name} ${r.rps.toFixed(0)}/${b.rps.toFixed(0)}`);
      }
      process.stderr.write(`  round ${round} (target/its bare run): ${report.join(', ')}\n`);
    }
    const bare = bareShort;
    for (const t of targets) {
      const pick = (f: (r: Run) => number) => median(t.runs.map(f));
      rows.push({
        target: t.name,
        note: t.note,
        rps: pick((r) => r.rps),
        ratio: t.baseline ? median(t.ratios) : 1,
        ratioShort: pick((r) => r.rps) / median(bare.runs.map((r) => r.rps)),
        p50: pick((r) => r.p50),
        p99: pick((r) => r.p99),
        max: Math.max(...t.runs.map((r) => r.max)),
        errors: t.runs.reduce((n, r) => n + r.errors, 0),
        bytes: pick((r) => r.bytes),
      });
    }

    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    process.stdout.write(`\n## boot API: script requests/s and latency (wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds, each target ${SECONDS}s back to back with its bare baseline; servers on CPU 0, wrk on CPU 1; load average ${load} at the end)\n\n${table(rows)}\n`);
    const pb = rows.filter((r) => r.target.startsWith('PureBoot /'));
    process.stdout.write(
      `\nIssue 7 target (≥ 0.7× bare fastify at the same URL, p99 < 10 ms): ${pb.map((r) => `${r.target}: ${r.ratio.toFixed(2)}×, p99 ${r.p99.toFixed(2)} ms → ${r.ratio >= 0.7 && r.p99 < 10 ? 'met' : 'NOT met'}`).join('; ')}\n`,
    );
  } finally {
    for (const c of children) await stopChild(c);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:http failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
