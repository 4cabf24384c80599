/**
 * The servers bench:http measures, each started as its own process (pinned by the bench with taskset):
 *   http-servers.ts bare <port> <scriptFile>          bare fastify routes (/boot/:mac, /api/v1/boot) answering the file's bytes
 *   http-servers.ts pureboot <port> <dataDir> <count>  PureBoot (storage from PB_BENCH_STORAGE) with
 *                                                      <count> machines stored and a constant route
 * Prints `ready` when listening.
 */
import fs from 'node:fs';
import Fastify from 'fastify';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';

export const macOf = (i: number, sep: string): string =>
  ['02', '00', '00', '00', (i >> 8).toString(16).padStart(2, '0'), (i & 255).toString(16).padStart(2, '0')].join(sep);

export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

async function bare(port: number, file: string): Promise<void> {
  const body = fs.readFileSync(file, 'utf8');
  const app = Fastify({ logger: false });
  app.get('/boot/:mac', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(body));
  // The long form's URL on a route that does nothing with it (fastify still parses its query string).
  app.get('/api/v1/boot', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(body));
  await app.listen({ host: '127.0.0.1', port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

async function pureboot(port: number, dataDir: string, count: number): Promise<void> {
  const storage = process.env.PB_BENCH_STORAGE ?? 'storage-memory';
  const k = await Pureboot.create({
    config: {
      plugins: [storage, 'boot-api'],
      server: { dataDir, logLevel: 'warn' },
      'boot-api': { address: '127.0.0.1', port, token: BENCH_TOKEN, requestLogs: false, docs: false, profiles: { debian: { kernel: 'debian/{{buildarch}}/linux', initrds: ['debian/{{buildarch}}/initrd.gz'], cmdline: 'console=ttyS0' } }, groups: { all: { profile: 'debian' } } },
    },
    configDir: dataDir,
    logger: pino({ level: 'warn' }),
  });
  const store = k.services.nodeStore;
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const res = await store.create({ mac: macOf(i, ':'), state: 'active', arch: 'x86_64-efi', labels: { rack: `r${i % 40}` }, now, reason: 'bench' });
    if (!res.ok) throw new Error(`cannot store machine ${i}: ${res.reason}`);
  }
  // The same bytes from a constant route on PureBoot's own fastify instance: the cost of the HTTP
  // stack as PureBoot configures it, apart from the boot logic. Its text is set by the bench (PUT).
  let constant = '#!ipxe\n';
  k.services.http.get('/bench/constant/:mac', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(constant));
  k.services.http.put('/bench/constant', async (req) => {
    constant = String(req.body);
    return { ok: true };
  });
  await k.start();
  process.on('SIGTERM', () => void k.stop('bench done').then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const [mode, port, a, b] = process.argv.slice(2);
  if (mode === 'bare') await bare(Number(port), a);
  else if (mode === 'pureboot') await pureboot(Number(port), a, Number(b));
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write('ready\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
