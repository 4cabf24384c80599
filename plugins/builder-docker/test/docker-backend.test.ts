import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { BuilderError, type BuildSpec } from '@pureboot/core';
import { builderContractCases, requireRoot, requireTools, waitUntil } from '@pureboot/core/testing';
import pino from 'pino';
import { ArtifactCache, BuildQueue, parseBuildRequest } from '@pureboot/plugin-ipxe-builder';
import { BUILD_LABEL, DockerBackend, SHIPPED_BUILD_CONTEXT } from '../src';
import { importBaseImage, startDockerd, type TestDockerd } from './dockerd';

// The Docker backend against a REAL Docker engine started here. The image it builds holds PureBoot's
// STAND-IN iPXE tree (plugins/ipxe-builder/test/fixtures/ipxe-standin, NOT iPXE: no iPXE source or
// registry is reachable here) on a busybox + make base image made locally.

const STANDIN_SRC = path.resolve(__dirname, '../../ipxe-builder/test/fixtures/ipxe-standin/src');
const BASE = { repo: 'pureboot-test/standin-base', tag: '1' };

describe('builder-docker: DockerBackend against a real dockerd (stand-in iPXE tree)', function () {
  this.timeout(90_000);
  let engine: TestDockerd | undefined;
  let context: string;
  let workDir: string;
  let backend: DockerBackend;

  before(async function () {
    requireRoot(this);
    requireTools(this, ['dockerd', 'tar', 'ldd', 'make']);
    engine = await startDockerd();
    await importBaseImage(engine.docker, BASE.repo, BASE.tag);
    context = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-docker-ctx-'));
    fs.cpSync(STANDIN_SRC, path.join(context, 'src'), { recursive: true });
    fs.writeFileSync(
      path.join(context, 'Dockerfile'),
      `# Builder image for the tests: PureBoot's STAND-IN iPXE tree (not iPXE) on a local busybox + make base.\nFROM ${BASE.repo}:${BASE.tag}\nARG IPXE_REVISION\nCOPY src /ipxe/src\nWORKDIR /ipxe/src\nLABEL org.pureboot.ipxe.src=/ipxe/src\n`,
    );
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-docker-work-'));
    backend = new DockerBackend({ socketPath: engine.socketPath, image: 'pureboot-test/ipxe-standin', ipxeRepo: 'file:///standin', ipxeRevision: 'standin-1', buildContext: context, srcPath: '/ipxe/src', workDir, jobs: 1, cross: {}, memoryMb: 256 });
  });
  after(async () => {
    await engine?.stop();
    for (const d of [context, workDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('prepares the builder image from its Dockerfile once, then reuses it', async () => {
    const lines: string[] = [];
    await backend.prepare((l) => lines.push(l));
    const tag = await backend.imageTag();
    expect(tag).to.match(/^pureboot-test\/ipxe-standin:standin-1-[0-9a-f]{12}$/);
    const info = await backend.docker.getImage(tag).inspect();
    expect(info.Config.Labels['org.pureboot.ipxe.revision']).to.equal('standin-1');
    expect(lines.join('\n')).to.match(/Step \d+\/\d+ : COPY src \/ipxe\/src/);
    // A second backend with the same context finds the image instead of building it.
    const again = new DockerBackend({ ...(backend as unknown as { o: ConstructorParameters<typeof DockerBackend>[0] }).o });
    const lines2: string[] = [];
    await again.prepare((l) => lines2.push(l));
    expect(lines2).to.deep.equal([]);
    expect(await again.sourceRevision()).to.equal(await backend.sourceRevision());
  });

  describe('shared builderBackend contract', () => {
    for (const c of builderContractCases({
      backend: () => backend,
      residue: async () => [...(await backend.leftoverContainers()).map((c) => `container ${c}`), ...fs.readdirSync(workDir).map((f) => `work dir: ${f}`)],
      buildTimeoutMs: 30_000,
    })) {
      it(c.name, async function () {
        this.timeout(c.timeoutMs);
        await c.run();
      });
    }
  });

  it('runs each build in its own container (no network, script mounted read-only) and streams the log while it runs', async () => {
    const lines: string[] = [];
    const spec: BuildSpec = { id: 'inside-check', target: 'bin/undionly.kpxe', embeddedScript: '#!ipxe\necho in-container\n#standin-sleep 3\n', configHeaders: {}, signal: new AbortController().signal, onLog: (l) => lines.push(l) };
    const p = backend.build(spec);
    const running = await waitUntil(async () => (await backend.docker.listContainers({ filters: { label: [`${BUILD_LABEL}=inside-check`] } }))[0], 20_000, 100, 'the build container');
    const info = await backend.docker.getContainer(running.Id).inspect();
    expect(info.HostConfig.NetworkMode).to.equal('none');
    const mount = info.Mounts.find((m) => m.Destination === '/pureboot/embed.ipxe');
    expect(mount?.RW, 'the script is mounted read-only').to.equal(false);
    expect(info.Config.Cmd).to.deep.equal(['make', '-C', '/ipxe/src', '-j1', 'bin/undionly.kpxe', 'EMBED=/pureboot/embed.ipxe']);
    await waitUntil(() => lines.some((l) => l.includes('[BUILD]')), 20_000, 50, 'a streamed log line');
    expect(lines.some((l) => l.includes('[FINISH]')), 'the log arrived only at the end').to.equal(false);
    const r = await p;
    expect(r.artifact.toString('latin1')).to.include('echo in-container');
    expect(lines.some((l) => l.includes('[FINISH] bin/undionly.kpxe'))).to.equal(true);
    expect(await backend.leftoverContainers()).to.deep.equal([]);
  });

  it('a timeout (abort signal) kills the container and removes it', async () => {
    const lines: string[] = [];
    const t0 = Date.now();
    const err = await backend
      .build({ id: 'timeout-check', target: 'bin/undionly.kpxe', embeddedScript: '#!ipxe\n#standin-sleep 120\n', configHeaders: {}, signal: AbortSignal.timeout(2500), onLog: (l) => lines.push(l) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(BuilderError);
    expect((err as BuilderError).kind).to.equal('aborted');
    expect(Date.now() - t0).to.be.below(20_000);
    expect(lines.some((l) => l.includes('[BUILD]'))).to.equal(true);
    expect(await backend.docker.listContainers({ all: true, filters: { label: [`${BUILD_LABEL}=timeout-check`] } })).to.deep.equal([]);
  });

  it('the ipxe-builder job queue over Docker: build, cache hit, and a timed-out job whose container is killed', async () => {
    // A second image whose stand-in tree sleeps in every build (its standin-control.mk).
    const slowCtx = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-docker-ctx-slow-'));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-docker-data-'));
    try {
      fs.cpSync(context, slowCtx, { recursive: true });
      const opts = (backend as unknown as { o: ConstructorParameters<typeof DockerBackend>[0] }).o;
      const queue = (b: DockerBackend, timeoutMs: number) =>
        new BuildQueue({ backend: b, cache: new ArtifactCache(dataDir), logger: pino({ level: 'silent' }), servedPaths: () => [], concurrency: 1, timeoutMs, maxQueued: 5, maxLogLines: 1000, keepFinished: 10 });
      const q = queue(backend, 30_000);
      const job = await q.submit(parseBuildRequest({ target: 'bin-x86_64-efi/snponly.efi', features: ['https'], embed: { server: '198.18.8.9' } }));
      await job.done;
      expect(job.view.status, JSON.stringify(job.view.error)).to.equal('succeeded');
      expect(job.view.backend).to.equal('docker');
      expect((await q.submit(parseBuildRequest({ target: 'bin-x86_64-efi/snponly.efi', features: ['https'], embed: { server: '198.18.8.9' } }))).view.cached).to.equal(true);

      fs.writeFileSync(path.join(slowCtx, 'src', 'standin-control.mk'), 'STANDIN_SLEEP := 120\n');
      const slow = new DockerBackend({ ...opts, image: 'pureboot-test/ipxe-standin-slow', buildContext: slowCtx });
      await slow.prepare();
      const sq = queue(slow, 2000);
      const t0 = Date.now();
      const timed = await sq.submit(parseBuildRequest({ target: 'bin/undionly.kpxe', embed: false }));
      let sawContainer = false;
      const poll = setInterval(() => {
        void slow.leftoverContainers().then((c) => (sawContainer ||= c.some((x) => x.includes('running'))));
      }, 200);
      try {
        await timed.done;
      } finally {
        clearInterval(poll);
      }
      expect(timed.view.status).to.equal('timed-out');
      expect(timed.view.error?.code).to.equal('PB_ERR_IPXE_BUILD_TIMEOUT');
      expect(sawContainer, 'the build ran in a container').to.equal(true);
      expect(Date.now() - t0).to.be.below(20_000);
      expect(await slow.leftoverContainers()).to.deep.equal([]);
      expect(timed.log.some((l) => l.includes('[BUILD]'))).to.equal(true);
    } finally {
      fs.rmSync(slowCtx, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an unreachable engine is a "backend" error', async () => {
    const b = new DockerBackend({ socketPath: path.join(workDir, 'no-such.sock'), image: 'x/y', ipxeRepo: 'file:///x', ipxeRevision: 'r', buildContext: context, srcPath: '/ipxe/src', workDir, jobs: 1, cross: {}, memoryMb: 256 });
    const err = await b.prepare().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as BuilderError).code).to.equal('PB_ERR_BUILDER_BACKEND');
  });

  it('ships a Dockerfile that clones iPXE at the pinned revision and builds every target', () => {
    const df = fs.readFileSync(path.join(SHIPPED_BUILD_CONTEXT, 'Dockerfile'), 'utf8');
    expect(df).to.match(/^ARG IPXE_REVISION=/m);
    expect(df).to.include('git clone "$IPXE_REPO" /ipxe');
    expect(df).to.include('checkout --detach "$IPXE_REVISION"');
    for (const t of ['bin/undionly.kpxe', 'bin-x86_64-efi/ipxe.efi', 'bin-x86_64-efi/snponly.efi', 'bin-arm64-efi/snp.efi']) expect(df).to.include(t);
    expect(df).to.match(/org\.pureboot\.ipxe\.src="\/ipxe\/src"/);
  });
});
