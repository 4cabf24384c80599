import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { requireTools, waitUntil } from '@pureboot/core/testing';
import { LocalBackend } from '@pureboot/plugin-builder-local';
import { ArtifactCache, BuildQueue, parseBuildRequest, type Job } from '../src';
import { standinTree, type StandinTree } from './support/standin';

// Job semantics of the iPXE builder over the local backend and PureBoot's STAND-IN iPXE tree.

function processesUnder(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

interface Rig {
  tree: StandinTree;
  dataDir: string;
  workDir: string;
  queue: BuildQueue;
  cache: ArtifactCache;
  cleanup(): Promise<void>;
}

function rig(o: { sleepS?: number; fail?: boolean; concurrency?: number; timeoutMs?: number; maxQueued?: number } = {}): Rig {
  const tree = standinTree({ sleepS: o.sleepS, fail: o.fail });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-jobs-'));
  const workDir = path.join(dataDir, 'work');
  const backend = new LocalBackend({ sourceDir: tree.src, workDir, make: tree.make, jobs: 1, cross: {}, killGraceMs: 300 });
  const cache = new ArtifactCache(dataDir);
  const queue = new BuildQueue({
    backend,
    cache,
    logger: pino({ level: 'silent' }),
    servedPaths: (key, file, name) => [...(name ? [`ipxe/${name}`] : []), `ipxe/${key}/${file}`],
    concurrency: o.concurrency ?? 1,
    timeoutMs: o.timeoutMs ?? 30_000,
    maxQueued: o.maxQueued ?? 50,
    maxLogLines: 1000,
    keepFinished: 50,
  });
  return {
    tree,
    dataDir,
    workDir,
    queue,
    cache,
    cleanup: async () => {
      await queue.stop();
      tree.remove();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const req = (port: number, extra: Record<string, unknown> = {}) => parseBuildRequest({ target: 'bin/undionly.kpxe', embed: { server: '198.18.0.1', port }, ...extra });

describe('ipxe-builder: build jobs (local backend, stand-in iPXE tree)', function () {
  this.timeout(30_000);
  const rigs: Rig[] = [];
  const make = (o?: Parameters<typeof rig>[0]) => {
    const r = rig(o);
    rigs.push(r);
    return r;
  };
  before(function () {
    requireTools(this, ['make', 'sh']);
  });
  after(async () => {
    for (const r of rigs) await r.cleanup();
  });

  it('builds, stores the artifact by content key, and answers a repeat from the cache without running make again', async () => {
    const r = make();
    const job = await r.queue.submit(req(8080, { features: ['https', 'menu'] }));
    expect(job.view.status).to.be.oneOf(['queued', 'running']);
    await job.done;
    expect(job.view.status, JSON.stringify(job.view.error)).to.equal('succeeded');
    expect(job.view.progress).to.equal(1);
    expect(job.log.some((l) => l.includes('[BUILD]'))).to.equal(true);
    const art = fs.readFileSync(r.cache.artifactPath(job.view.key), 'latin1');
    expect(art).to.include('set pb-server http://198.18.0.1:8080');
    expect(art).to.include('--- config/local/general.h');
    expect(art).to.include('#define DOWNLOAD_PROTO_HTTPS');
    expect(r.tree.runs()).to.have.length(1);

    const again = await r.queue.submit(req(8080, { features: ['menu', 'https'] }));
    expect(again.view.status).to.equal('succeeded');
    expect(again.view.cached).to.equal(true);
    expect(again.view.key).to.equal(job.view.key);
    expect(again.log.some((l) => l.includes('[BUILD]')), 'the cached build keeps its log').to.equal(true);
    expect(r.tree.runs(), 'make ran for a cached build').to.have.length(1);

    const other = await r.queue.submit(req(8081));
    await other.done;
    expect(other.view.key).to.not.equal(job.view.key);
    expect(r.tree.runs()).to.have.length(2);
  });

  it('the cache survives a restart (persisted in the data directory)', async () => {
    const r = make();
    const first = await r.queue.submit(req(9000));
    await first.done;
    const q2 = new BuildQueue({
      backend: new LocalBackend({ sourceDir: r.tree.src, workDir: r.workDir, make: r.tree.make, jobs: 1, cross: {}, killGraceMs: 300 }),
      cache: new ArtifactCache(r.dataDir),
      logger: pino({ level: 'silent' }),
      servedPaths: () => [],
      concurrency: 1,
      timeoutMs: 30_000,
      maxQueued: 5,
      maxLogLines: 100,
      keepFinished: 5,
    });
    const second = await q2.submit(req(9000));
    expect(second.view.cached).to.equal(true);
    expect(r.tree.runs()).to.have.length(1);
  });

  it('caps concurrent builds at the configured limit and runs the rest in order', async () => {
    const r = make({ sleepS: 2, concurrency: 2 });
    let running = 0;
    let maxRunning = 0;
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) {
      const j = await r.queue.submit(req(7000 + i));
      let counted = false;
      j.on('update', (v: Job['view']) => {
        if (v.status === 'running' && !counted) {
          counted = true;
          running++;
          maxRunning = Math.max(maxRunning, running);
        } else if (counted && v.status !== 'running') {
          counted = false;
          running--;
        }
      });
      jobs.push(j);
    }
    expect(r.queue.stats().queued + r.queue.stats().running).to.equal(4);
    let maxMakes = 0;
    const poll = setInterval(() => {
      // Distinct private build folders that have a process running in them right now.
      const dirs = new Set(processesUnder(r.workDir).map((l) => l.slice(l.indexOf(r.workDir)).split('/')[r.workDir.split('/').length]));
      maxMakes = Math.max(maxMakes, dirs.size);
    }, 100);
    try {
      await Promise.all(jobs.map((j) => j.done));
    } finally {
      clearInterval(poll);
    }
    expect(jobs.map((j) => j.view.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(maxRunning).to.equal(2);
    expect(maxMakes, "builds seen running at once (ps)").to.equal(2);
    expect(jobs[2].view.startedAt as number).to.be.at.least(Math.min(jobs[0].view.finishedAt as number, jobs[1].view.finishedAt as number));
  });

  it('kills a build that runs into its timeout (status timed-out, nothing left running)', async () => {
    const r = make({ sleepS: 60, timeoutMs: 1000 });
    const job = await r.queue.submit(req(7100));
    await job.done;
    expect(job.view.status).to.equal('timed-out');
    expect(job.view.error?.code).to.equal('PB_ERR_IPXE_BUILD_TIMEOUT');
    expect((job.view.finishedAt as number) - (job.view.startedAt as number)).to.be.below(10_000);
    expect(processesUnder(r.workDir)).to.deep.equal([]);
    expect(fs.readdirSync(r.workDir)).to.deep.equal([]);
    expect(await r.cache.get(job.view.key)).to.equal(undefined);
  });

  it('cancels a running build and a queued one', async () => {
    const r = make({ sleepS: 60 });
    const a = await r.queue.submit(req(7200));
    const b = await r.queue.submit(req(7201));
    await waitUntil(() => a.log.some((l) => l.includes('[BUILD]')), 10_000, 50, 'build A to start');
    expect(b.view.status).to.equal('queued');
    r.queue.cancel(b.view.id);
    expect(b.view.status).to.equal('cancelled');
    r.queue.cancel(a.view.id);
    await a.done;
    expect(a.view.status).to.equal('cancelled');
    expect(a.view.error?.code).to.equal('PB_ERR_IPXE_BUILD_CANCELLED');
    expect(processesUnder(r.workDir)).to.deep.equal([]);
    expect(r.tree.runs()).to.have.length(1);
  });

  it('a failed build keeps the compiler error in its log', async () => {
    const r = make({ fail: true });
    const job = await r.queue.submit(req(7300));
    await job.done;
    expect(job.view.status).to.equal('failed');
    expect(job.view.error?.code).to.equal('PB_ERR_BUILDER_FAILED');
    expect(job.view.error?.exitCode).to.equal(2);
    expect(job.log.join('\n')).to.include('error: stand-in build failure requested');
  });

  it('joins a request for a key that is being built, and refuses requests beyond maxQueued', async () => {
    const r = make({ sleepS: 60, maxQueued: 1 });
    const a = await r.queue.submit(req(7400));
    const same = await r.queue.submit(req(7400));
    expect(same).to.equal(a);
    await waitUntil(() => a.view.status === 'running', 5000, 20, 'A running');
    await r.queue.submit(req(7401));
    const err = await r.queue.submit(req(7402)).then(
      () => undefined,
      (e: unknown) => e as { code: string; statusCode: number },
    );
    expect(err?.code).to.equal('PB_ERR_IPXE_QUEUE_FULL');
    expect(err?.statusCode).to.equal(429);
  });

  it('a backend that cannot name its source is a 503 PB_ERR_BUILDER_BACKEND at submit time, and nothing is queued', async () => {
    const r = make();
    fs.rmSync(r.tree.src, { recursive: true, force: true });
    const err = await r.queue.submit(req(7500)).then(
      () => undefined,
      (e: unknown) => e as { code: string; statusCode: number },
    );
    expect(err?.code).to.equal('PB_ERR_BUILDER_BACKEND');
    expect(err?.statusCode).to.equal(503);
    expect(r.queue.list()).to.deep.equal([]);
  });
});
