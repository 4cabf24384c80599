import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';
import { purebootArgv, requireTools, startProcess, waitUntil } from '@pureboot/core/testing';
import { embeddedScript, logLinesFromSse, parseEmbed, runBuild, type JobView } from '../src';
import { standinTree, type StandinTree } from './support/standin';

// The whole plugin in a running PureBoot: boot-api (HTTP API), builder-local over PureBoot's STAND-IN
// iPXE tree (not iPXE), ipxe-builder, and the TFTP plugin serving the artifacts to a real tftp-hpa client.

const TOKEN = 'ipxe-builder-test-token-0123456789';
const EMBED = { server: '198.18.8.1', port: 8080 };

function tftpGet(port: number, remote: string, local: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', remote, local], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('ipxe-builder: HTTP API, CLI and TFTP delivery in a running PureBoot', function () {
  this.timeout(30_000);
  let k: Pureboot;
  let tree: StandinTree;
  let dataDir: string;
  let filesRoot: string;
  let out: string;
  let base: string;
  let tftpPort: number;

  const api = async (method: string, p: string, body?: unknown, auth = true) =>
    fetch(`${base}${p}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  const finished = async (id: string): Promise<JobView> =>
    waitUntil(
      async () => {
        const v = (await (await api('GET', `/api/v1/ipxe/builds/${id}`)).json()) as JobView;
        return v.status !== 'queued' && v.status !== 'running' ? v : undefined;
      },
      20_000,
      50,
      `build ${id} to finish`,
    );

  before(async function () {
    requireTools(this, ['make', 'sh', 'tftp']);
    tree = standinTree({ sleepS: 2 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-api-'));
    filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-root-'));
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-out-'));
    fs.mkdirSync(path.join(filesRoot, 'ipxe'));
    fs.writeFileSync(path.join(filesRoot, 'ipxe', 'static.txt'), 'from the static root\n');
    k = await Pureboot.create({
      config: {
        plugins: [path.join(__dirname, 'support', 'storage-fake.ts'), 'builder-local', 'boot-api', 'ipxe-builder', 'tftp'],
        server: { dataDir, logLevel: 'silent' },
        files: { root: filesRoot },
        'boot-api': { address: '127.0.0.1', port: 0, token: TOKEN, requestLogs: false },
        'builder-local': { sourceDir: tree.src, make: tree.make, jobs: 1, cross: { 'bin-arm64-efi/snp.efi': 'pb-no-such-cross-' } },
        'ipxe-builder': {
          concurrency: 1,
          embed: EMBED,
          autoexec: { enabled: true, paths: ['autoexec.ipxe', 'uefi/autoexec.ipxe'] },
          builds: [{ target: 'bin/undionly.kpxe', name: 'undionly.kpxe' }],
        },
        tftp: { address: '127.0.0.1', port: 0 },
      },
      configDir: dataDir,
      logger: pino({ level: process.env.PB_TEST_LOG ?? 'silent' }),
    });
    await k.start();
    const a = k.services.http.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    tftpPort = (k.services as unknown as { tftpServer: { address?: { port: number } } }).tftpServer.address?.port as number;
  });
  after(async () => {
    await k?.stop('test done');
    tree?.remove();
    for (const d of [dataDir, filesRoot, out]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('builds the configured binary at start and serves it over TFTP (tftp-hpa) through fileResolve', async () => {
    const built = await waitUntil(
      async () => {
        const list = (await (await api('GET', '/api/v1/ipxe/builds')).json()) as { items: JobView[] };
        return list.items.find((j) => j.name === 'undionly.kpxe' && j.status === 'succeeded');
      },
      20_000,
      100,
      'the configured build',
    );
    expect(built.artifact?.paths).to.deep.equal(['ipxe/undionly.kpxe', `ipxe/${built.key}/undionly.kpxe`]);
    const viaApi = Buffer.from(await (await api('GET', `/api/v1/ipxe/builds/${built.id}/artifact`)).arrayBuffer());
    expect(viaApi.toString('latin1')).to.include('set pb-server http://198.18.8.1:8080');
    for (const remote of ['ipxe/undionly.kpxe', `ipxe/${built.key}/undionly.kpxe`]) {
      const local = path.join(out, remote.replace(/\//g, '_'));
      const r = await tftpGet(tftpPort, remote, local);
      expect(r.code, r.out).to.equal(0);
      expect(fs.readFileSync(local).equals(viaApi), `${remote} over TFTP differs from the artifact`).to.equal(true);
    }
    // Paths the builder has no opinion on still reach the static root.
    const r = await tftpGet(tftpPort, 'ipxe/static.txt', path.join(out, 'static.txt'));
    expect(r.code, r.out).to.equal(0);
    expect(fs.readFileSync(path.join(out, 'static.txt'), 'utf8')).to.equal('from the static root\n');
  });

  it('serves autoexec.ipxe for signed iPXE binaries (Secure Boot path) over TFTP', async () => {
    const local = path.join(out, 'autoexec.ipxe');
    const r = await tftpGet(tftpPort, 'uefi/autoexec.ipxe', local);
    expect(r.code, r.out).to.equal(0);
    expect(fs.readFileSync(local, 'utf8')).to.equal(embeddedScript(parseEmbed({}, EMBED)));
  });

  it('needs the API token on every build route', async () => {
    expect((await api('POST', '/api/v1/ipxe/builds', { target: 'bin/undionly.kpxe' }, false)).status).to.equal(401);
    expect((await api('GET', '/api/v1/ipxe/builds', undefined, false)).status).to.equal(401);
    expect((await api('GET', '/api/v1/ipxe/builds/b-000000000000/log', undefined, false)).status).to.equal(401);
  });

  it('POST starts a job (202) with progress; GET …/log streams the log as server-sent events while it runs', async () => {
    const res = await api('POST', '/api/v1/ipxe/builds', { target: 'bin-x86_64-efi/ipxe.efi', features: ['https'], embed: { port: 8081 } });
    expect(res.status).to.equal(202);
    const job = (await res.json()) as JobView;
    expect(res.headers.get('location')).to.equal(`/api/v1/ipxe/builds/${job.id}`);
    const logRes = await api('GET', `/api/v1/ipxe/builds/${job.id}/log`);
    expect(logRes.headers.get('content-type')).to.match(/^text\/event-stream/);
    const text = await logRes.text();
    expect(text).to.match(/event: progress\ndata: \{"status":"running","phase":"building"/);
    expect(logLinesFromSse(text).filter((l) => l.includes('[BUILD]')).length).to.be.at.least(8);
    const end = /event: end\ndata: (.*)\n\n$/.exec(text);
    expect(end, 'the stream ends with an end event').to.not.equal(null);
    const final = JSON.parse((end as RegExpExecArray)[1]) as JobView;
    expect(final.status).to.equal('succeeded');
    expect(final.progress).to.equal(1);
    const art = Buffer.from(await (await api('GET', `/api/v1/ipxe/builds/${job.id}/artifact`)).arrayBuffer()).toString('latin1');
    expect(art).to.include('target: bin-x86_64-efi/ipxe.efi').and.include('#define DOWNLOAD_PROTO_HTTPS').and.include('http://198.18.8.1:8081');
    // A repeat is answered from the cache at once.
    const again = await api('POST', '/api/v1/ipxe/builds', { target: 'bin-x86_64-efi/ipxe.efi', features: ['https'], embed: { port: 8081 } });
    expect(again.status).to.equal(200);
    expect(((await again.json()) as JobView).cached).to.equal(true);
  });

  it('answers 409 for the artifact of an unfinished build, 404 for an unknown one, and cancels with DELETE', async () => {
    const job = (await (await api('POST', '/api/v1/ipxe/builds', { target: 'bin/undionly.kpxe', embed: { port: 8082 } })).json()) as JobView;
    const early = await api('GET', `/api/v1/ipxe/builds/${job.id}/artifact`);
    expect(early.status).to.equal(409);
    expect(((await early.json()) as { code: string }).code).to.equal('PB_ERR_IPXE_NOT_READY');
    const del = await api('DELETE', `/api/v1/ipxe/builds/${job.id}`);
    expect(del.status).to.equal(200);
    expect((await finished(job.id)).status).to.equal('cancelled');
    const missing = await api('GET', '/api/v1/ipxe/builds/b-0123456789ab');
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { code: string }).code).to.equal('PB_ERR_IPXE_BUILD_NOT_FOUND');
  });

  it('hostile inputs (make variables, shell and iPXE metacharacters) are refused and never reach make or a file', async () => {
    const marker = 'PBHOSTILE';
    const runsBefore = tree.runs().length;
    const bodies: unknown[] = [
      { target: `bin/undionly.kpxe EMBED=/tmp/${marker}` },
      { target: 'bin/undionly.kpxe', embed: { server: `198.18.8.1 EMBED=/tmp/${marker}` } },
      { target: 'bin/undionly.kpxe', embed: { server: `$(touch /tmp/${marker})` } },
      { target: 'bin/undionly.kpxe', embed: { server: `\`${marker}\`` } },
      { target: 'bin/undionly.kpxe', embed: { server: `198.18.8.1;${marker}` } },
      { target: 'bin/undionly.kpxe', embed: { server: `198.18.8.1\nshell #${marker}` } },
      { target: 'bin/undionly.kpxe', embed: { server: '${next-server}' } },
      { target: 'bin/undionly.kpxe', embed: { chainPath: `/x || shell #${marker}` } },
      { target: 'bin/undionly.kpxe', features: [`https CONFIG=${marker}`] },
      { target: 'bin/undionly.kpxe', name: `../../${marker}` },
      { target: 'bin/undionly.kpxe', name: `x$(${marker})` },
      { target: 'bin/undionly.kpxe', CROSS: marker },
      { target: 'bin/undionly.kpxe', embed: { port: `8080 ${marker}` } },
    ];
    for (const b of bodies) {
      const res = await api('POST', '/api/v1/ipxe/builds', b);
      expect(res.status, JSON.stringify(b)).to.equal(400);
    }
    expect(tree.runs().length, 'make ran for a refused request').to.equal(runsBefore);
    for (const argv of tree.runs()) {
      expect(argv.join(' ')).to.not.include(marker);
      for (const a of argv) expect(a, `make argument ${JSON.stringify(a)}`).to.match(/^[A-Za-z0-9._/=+-]+$/);
    }
    const files = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const f of files) {
      const p = path.join(f.parentPath, f.name);
      expect(p).to.not.include(marker);
      expect(fs.readFileSync(p, 'latin1'), p).to.not.include(marker);
    }
    expect(fs.existsSync(`/tmp/${marker}`)).to.equal(false);
  });

  it('CLI `pureboot ipxe build` shows progress, writes the binary, and prints the log when the build fails', async () => {
    const printed: string[] = [];
    const progress: string[] = [];
    const ctx = (flags: Record<string, unknown>) => ({
      args: [],
      flags: { url: base, token: TOKEN, ...flags },
      config: k.config,
      options: k.config['ipxe-builder'],
      print: (l: string) => void printed.push(l),
    });
    const io = { progress: (t: string) => void progress.push(t), isTty: false, pollMs: 100 };
    const outFile = path.join(out, 'snponly.efi');
    expect(await runBuild(ctx({ target: 'bin-x86_64-efi/snponly.efi', embedServer: '198.18.8.2', name: 'snponly.efi', out: outFile }), io)).to.equal(0);
    expect(progress.join('')).to.match(/\[#{30}\] 100% succeeded/);
    expect(fs.readFileSync(outFile, 'latin1')).to.include('set pb-server http://198.18.8.2:8080');
    expect(printed.join('\n')).to.include('served to PXE clients (TFTP/HTTP) as ipxe/snponly.efi');

    printed.length = 0;
    expect(await runBuild(ctx({ target: 'bin-arm64-efi/snp.efi' }), io)).to.equal(1);
    const text = printed.join('\n');
    expect(text).to.include('--- build log of');
    expect(text).to.include('make: pb-no-such-cross-gcc: No such file or directory');
    expect(text).to.match(/failed: PB_ERR_BUILDER_FAILED/);

    const bad = await runBuild(ctx({ target: 'bin/undionly.kpxe', embedServer: '$(reboot)' }), io).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(bad?.code).to.equal('PB_ERR_IPXE_INVALID_INPUT');
  });

  it('the real `pureboot ipxe build` command (commander wiring, flags) builds and downloads', async function () {
    this.timeout(60_000);
    const cfgDir = fs.mkdtempSync(path.join(out, 'cli-'));
    const cfg = path.join(cfgDir, 'pureboot.config.json');
    fs.writeFileSync(
      cfg,
      JSON.stringify({
        plugins: [path.join(__dirname, 'support', 'storage-fake.ts'), 'builder-local', 'boot-api', 'ipxe-builder'],
        server: { dataDir: path.join(cfgDir, 'data') },
        'builder-local': { sourceDir: tree.src },
        'ipxe-builder': { embed: { port: 8080 } },
      }),
    );
    const outFile = path.join(cfgDir, 'undionly.kpxe');
    const p = startProcess(purebootArgv(['ipxe', 'build', '--config', cfg, '--target', 'bin/undionly.kpxe', '--embed-server', '198.18.8.4', '--feature', 'menu,ping', '--out', outFile, '--url', base, '--token', TOKEN]), { cwd: cfgDir });
    const r = await Promise.race([p.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`pureboot ipxe build hung:\n${p.stdout()}\n${p.stderr()}`)), 50_000))]);
    expect(r.code, `${p.stdout()}\n${p.stderr()}`).to.equal(0);
    expect(p.stderr()).to.match(/100% succeeded/);
    const art = fs.readFileSync(outFile, 'latin1');
    expect(art).to.include('set pb-server http://198.18.8.4:8080').and.include('#define PING_CMD');

    const bad = startProcess(purebootArgv(['ipxe', 'build', '--config', cfg, '--target', 'bin/undionly.kpxe', '--embed-server', '198.18.8.4;reboot', '--url', base, '--token', TOKEN]), { cwd: cfgDir });
    const rb = await bad.exited;
    expect(rb.code).to.equal(1);
    expect(bad.stderr()).to.include('PB_ERR_IPXE_INVALID_INPUT');
  });
});
