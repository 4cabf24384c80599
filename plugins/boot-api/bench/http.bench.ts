/**
 * npm run bench:http — how fast PureBoot serves machine scripts, side by side with peers on this machine.
 *
 * Targets (each alone, one after the other, all on 127.0.0.1, measured with wrk):
 *   bare fastify        a fastify route returning a constant iPXE script (the ceiling for any fastify app)
 *   PureBoot's fastify  the same constant route on the boot API's fastify instance (its HTTP stack alone)
 *   busybox httpd       busybox httpd serving one static iPXE file per machine (a static peer)
 *   python http.server  python3 -m http.server serving the same files
 *   PureBoot /boot/MAC  the boot API with N machines stored (active → local boot script), MACs rotated
 *   PureBoot /api/v1/boot?mac=  the same through the long form with iPXE variables
 * Every request of the PureBoot rows is a full boot-script request: store lookup, group/profile selection,
 * lifecycle script, scriptRender hook, metrics, and an http.script boot event appended to the timeline.
 *
 * Environment: PB_BENCH_STORAGE (storage-memory; or storage-file …), PB_BENCH_MACHINES (10000), PB_BENCH_SECONDS (8), PB_BENCH_CONNECTIONS (32), PB_BENCH_THREADS (1).
 * Issue 7 target: PureBoot ≥ 0.7× the bare route's requests/s, p99 < 10 ms.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';

const exec = promisify(execFile);

const MACHINES = Number(process.env.PB_BENCH_MACHINES ?? 10000);
const SECONDS = Number(process.env.PB_BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.PB_BENCH_CONNECTIONS ?? 32);
const THREADS = Number(process.env.PB_BENCH_THREADS ?? 1);
const WARMUP_SECONDS = 2;

interface Row {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  bytes: number;
  note: string;
}

const macOf = (i: number, sep: string) => ['02', '00', '00', '00', (i >> 8).toString(16).padStart(2, '0'), (i & 255).toString(16).padStart(2, '0')].join(sep);

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

async function wrk(url: string, lua: string | undefined, seconds: number): Promise<Omit<Row, 'target' | 'note'>> {
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '--timeout', '5s', ...(lua ? ['-s', lua] : []), url];
  const { stdout } = await exec('wrk', args, { timeout: (seconds + 30) * 1000 });
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

async function measure(target: string, base: string, pathTemplate: string, dir: string, note: string): Promise<Row> {
  const rotating = /\{(mac|hy)\}/.test(pathTemplate);
  const lua = rotating ? luaScript(dir, pathTemplate) : undefined;
  const url = rotating ? base : `${base}${pathTemplate}`;
  // sanity: one real request answers 200 with an iPXE script
  const probe = await fetch(`${base}${pathTemplate.replace('{mac}', macOf(1, ':')).replace('{hy}', macOf(1, '-'))}`);
  const text = await probe.text();
  if (probe.status !== 200 || !text.startsWith('#!ipxe')) throw new Error(`${target}: probe answered ${probe.status}: ${text.slice(0, 200)}`);
  await wrk(url, lua, WARMUP_SECONDS);
  const r = await wrk(url, lua, SECONDS);
  process.stderr.write(`  ${target}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms\n`);
  return { target, note, ...r };
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

async function peer(target: string, cmd: string, args: (port: number) => string[], cwd: string, dir: string, pathTemplate: string, note: string): Promise<Row | undefined> {
  const port = await freePort();
  const child = spawn(cmd, args(port), { cwd, stdio: 'ignore' });
  try {
    await waitForPort(port, child);
    return await measure(target, `http://127.0.0.1:${port}`, pathTemplate, dir, note);
  } catch (err) {
    process.stderr.write(`  ${target}: skipped (${(err as Error).message})\n`);
    return undefined;
  } finally {
    await stopChild(child);
  }
}

function table(rows: Row[]): string {
  const bare = rows.find((r) => r.target === 'bare fastify (constant)');
  const head = ['target', 'req/s', 'vs bare', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'B/resp', 'note'];
  const body = rows.map((r) => [
    r.target,
    r.rps.toFixed(0),
    bare ? `${(r.rps / bare.rps).toFixed(2)}×` : '-',
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

async function main(): Promise<void> {
  for (const tool of ['wrk']) {
    try {
      await exec('sh', ['-c', `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is not installed (apt-get install -y ${tool})`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-http-'));
  const rows: Row[] = [];
  try {
    process.stderr.write(`boot API benchmark: ${MACHINES} machines, wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s (after ${WARMUP_SECONDS}s warm-up), ${os.cpus().length} CPUs, node ${process.version}\n`);

    // PureBoot with N stored machines.
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const storage = process.env.PB_BENCH_STORAGE ?? 'storage-memory';
    const k = await Pureboot.create({
      config: {
        plugins: [storage, 'boot-api'],
        server: { dataDir, logLevel: 'warn' },
        'boot-api': { address: '127.0.0.1', port: 0, token: 'bench-token-0123456789abcdef', requestLogs: false, docs: false, profiles: { debian: { kernel: 'debian/{{buildarch}}/linux', initrds: ['debian/{{buildarch}}/initrd.gz'], cmdline: 'console=ttyS0' } }, groups: { all: { profile: 'debian' } } },
      },
      configDir: dataDir,
      logger: pino({ level: 'warn' }),
    });
    const store = k.services.nodeStore;
    const now = Date.now();
    for (let i = 0; i < MACHINES; i++) {
      const res = await store.create({ mac: macOf(i, ':'), state: 'active', arch: 'x86_64-efi', labels: { rack: `r${i % 40}` }, now, reason: 'bench' });
      if (!res.ok) throw new Error(`cannot store machine ${i}: ${res.reason}`);
    }
    // The same bytes from a constant route on PureBoot's own fastify instance: separates the cost of the
    // HTTP stack as PureBoot configures it (logger, hooks) from the cost of the boot logic.
    const sampleHolder = { text: '#!ipxe\n' };
    k.services.http.get('/bench/constant/:mac', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(sampleHolder.text));
    await k.start();
    const port = (k.services.http.server.address() as net.AddressInfo).port;
    const pbBase = `http://127.0.0.1:${port}`;

    // The static peers serve exactly what PureBoot serves each machine.
    const root = path.join(dir, 'www');
    fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
    const sample = await (await fetch(`${pbBase}/boot/${macOf(0, ':')}?buildarch=x86_64&platform=efi`)).text();
    sampleHolder.text = sample;
    for (let i = 0; i < MACHINES; i++) fs.writeFileSync(path.join(root, 'boot', macOf(i, '-')), sample.split(macOf(0, ':')).join(macOf(i, ':')));

    // 1. bare fastify route returning a constant (the ceiling)
    const bare = Fastify({ logger: false });
    bare.get('/boot/:mac', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(sample));
    await bare.listen({ host: '127.0.0.1', port: 0 });
    try {
      rows.push(await measure('bare fastify (constant)', `http://127.0.0.1:${(bare.server.address() as net.AddressInfo).port}`, '/boot/{mac}', dir, 'same script bytes, no work'));
    } finally {
      await bare.close();
    }

    // 2. static peers
    const bb = await peer('busybox httpd (static)', 'busybox', (p) => ['httpd', '-f', '-p', `127.0.0.1:${p}`, '-h', root], root, dir, '/boot/{hy}', `${MACHINES} files; no keep-alive`);
    if (bb) rows.push(bb);
    const py = await peer('python3 http.server (static)', '/usr/bin/python3', (p) => ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', root, String(p)], root, dir, '/boot/{hy}', `${MACHINES} files; HTTP/1.0`);
    if (py) rows.push(py);

    // 3. PureBoot
    try {
      rows.push(await measure("PureBoot's fastify, constant", pbBase, '/bench/constant/{mac}', dir, 'same bytes, no boot logic'));
      rows.push(await measure('PureBoot /boot/MAC', pbBase, '/boot/{mac}?buildarch=x86_64&platform=efi', dir, `${MACHINES} stored (${storage})`));
      rows.push(await measure('PureBoot /api/v1/boot?mac=', pbBase, '/api/v1/boot?mac={hy}&buildarch=x86_64&platform=efi&uuid=00000000-0000-0000-0000-000000000001&serial=SN1&ip=198.18.0.10', dir, 'long form, iPXE variables'));
    } finally {
      await k.stop('bench done');
    }

    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    process.stdout.write(`\n## boot API: script requests/s and latency (wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${os.cpus().length} CPUs, load average ${load} at the end)\n\n${table(rows)}\n`);
    const bareRow = rows[0];
    const pb = rows.filter((r) => r.target.startsWith('PureBoot /'));
    process.stdout.write(
      `\nIssue 7 target (≥ 0.7× bare fastify, p99 < 10 ms): ${pb.map((r) => `${r.target}: ${(r.rps / bareRow.rps).toFixed(2)}×, p99 ${r.p99.toFixed(2)} ms → ${r.rps >= 0.7 * bareRow.rps && r.p99 < 10 ? 'met' : 'NOT met'}`).join('; ')}\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:http failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
