// iPXE builder benchmark: how fast a cached request is answered, and what one build of PureBoot's
// STAND-IN iPXE tree (not iPXE) costs per backend. The Docker column runs when DOCKER_HOST names a
// unix socket whose engine has the image `pureboot-test/standin-base:1` (the builder-docker tests
// make it); otherwise it is shown as "-".
// Run: node scripts/run-ts.js plugins/ipxe-builder/bench/builds.bench.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BuilderBackend } from '@pureboot/core';
import { LocalBackend } from '@pureboot/plugin-builder-local';
import { DockerBackend } from '@pureboot/plugin-builder-docker';
import { ArtifactCache, BuildQueue, parseBuildRequest } from '../src';

const STANDIN_SRC = path.resolve(__dirname, '../test/fixtures/ipxe-standin/src');

function queueFor(backend: BuilderBackend, dataDir: string): BuildQueue {
  return new BuildQueue({ backend, cache: new ArtifactCache(dataDir), logger: pino({ level: 'silent' }), servedPaths: () => [], concurrency: 2, timeoutMs: 120_000, maxQueued: 1000, maxLogLines: 1000, keepFinished: 50 });
}

async function measure(backend: BuilderBackend | undefined): Promise<{ build: string; hit: string; hitsPerS: string }> {
  if (!backend) return { build: '-', hit: '-', hitsPerS: '-' };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-bench-'));
  try {
    const q = queueFor(backend, dataDir);
    await backend.prepare();
    const builds: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const job = await q.submit(parseBuildRequest({ target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', port: 9000 + i } }));
      await job.done;
      if (job.view.status !== 'succeeded') throw new Error(`build failed: ${job.view.error?.message}`);
      builds.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const n = 2000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const job = await q.submit(parseBuildRequest({ target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', port: 9000 } }));
      if (!job.view.cached) throw new Error('expected a cache hit');
    }
    const hitMs = Number(process.hrtime.bigint() - t0) / 1e6 / n;
    builds.sort((a, b) => a - b);
    return { build: `${builds[2].toFixed(0)} ms`, hit: `${(hitMs * 1000).toFixed(0)} µs`, hitsPerS: (1000 / hitMs).toFixed(0) };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function dockerBackend(workDir: string): Promise<DockerBackend | undefined> {
  const host = process.env.DOCKER_HOST;
  if (!host?.startsWith('unix://')) return undefined;
  const ctx = path.join(workDir, 'context');
  fs.mkdirSync(ctx, { recursive: true });
  fs.cpSync(STANDIN_SRC, path.join(ctx, 'src'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM pureboot-test/standin-base:1\nCOPY src /ipxe/src\n');
  const b = new DockerBackend({ socketPath: host.slice(7), image: 'pureboot-test/ipxe-standin-bench', ipxeRepo: 'file:///standin', ipxeRevision: 'standin-1', buildContext: ctx, srcPath: '/ipxe/src', workDir, jobs: 1, cross: {}, memoryMb: 256 });
  try {
    await b.prepare();
    return b;
  } catch (err) {
    process.stderr.write(`docker column skipped: ${(err as Error).message}\n`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-bench-work-'));
  try {
    const local = new LocalBackend({ sourceDir: STANDIN_SRC, workDir: path.join(work, 'local'), make: 'make', jobs: 1, cross: {}, killGraceMs: 500 });
    const docker = await dockerBackend(path.join(work, 'docker'));
    const rows = [
      ['metric (stand-in iPXE tree)', 'builder-local', 'builder-docker'],
      ...(await (async () => {
        const l = await measure(local);
        const d = await measure(docker);
        return [
          ['one build, median of 5 (request → artifact cached)', l.build, d.build],
          ['cache hit: submit → succeeded (mean of 2000)', l.hit, d.hit],
          ['cache hits per second (one caller)', l.hitsPerS, d.hitsPerS],
        ];
      })()),
    ];
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(w[i])).join('  ')}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
