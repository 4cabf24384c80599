import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { isRoot, purebootArgv, startProcess, tsNodeArgs } from '@pureboot/core/testing';
import { TempDeployment } from './support/temp-plugins';

const REPO = path.resolve(__dirname, '..', '..');
const DEFAULT_CONFIG = path.join(REPO, 'config', 'pureboot.config.yaml');

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = purebootArgv(args);
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('pureboot CLI', function () {
  this.timeout(60000);

  it('`start` on the embedded default config starts, and exits 0 within 2 s of SIGTERM', async () => {
    const p = startProcess(purebootArgv(['start', '--config', DEFAULT_CONFIG]), { cwd: REPO });
    try {
      await p.waitFor(/PureBoot [\d.]+ running/, 30000);
      const t0 = Date.now();
      p.child.kill('SIGTERM');
      const r = await Promise.race([p.exited, new Promise<null>((res) => setTimeout(() => res(null), 2000))]);
      const elapsed = Date.now() - t0;
      expect(r, `did not exit within 2 s of SIGTERM\n${p.stderr()}`).to.not.equal(null);
      expect(r).to.deep.equal({ code: 0, signal: null });
      expect(elapsed).to.be.lessThan(2000);
      expect(p.stdout()).to.include('PureBoot stopped');
    } finally {
      await p.stop('SIGKILL', 1000);
    }
  });

  it('`config check` prints the resolved config; a bad config exits 78 with the file and key', async () => {
    const ok = await cli(['config', 'check', '--config', DEFAULT_CONFIG]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include(': valid').and.include('shutdownGraceMs: 1500');
    const d = new TempDeployment();
    try {
      const file = d.write('pureboot.config.yaml', 'server:\n  logLevle: debug\n');
      const bad = await cli(['config', 'check'], { cwd: d.dir });
      expect(bad.code).to.equal(78);
      expect(bad.stderr).to.include(`PB_ERR_CONFIG_INVALID`).and.include(`${file}: server.logLevle: unknown key — did you mean "server.logLevel"?`);
      expect(bad.stderr).to.not.include('    at ');
    } finally {
      d.cleanup();
    }
  });

  it('`config schema` prints the combined JSON schema and `--version` the core version', async () => {
    const r = await cli(['config', 'schema', '--config', DEFAULT_CONFIG]);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.properties).to.include.keys('plugins', 'server', 'hooks', 'files', 'services');
    const v = await cli(['--version']);
    expect(v.stdout.trim()).to.equal((JSON.parse(fs.readFileSync(path.join(REPO, 'core', 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('`plugins` lists plugins with the services they provide and their taps; plugin commands run', async () => {
    const d = new TempDeployment();
    try {
      d.plugin('site.js', `{
        name: 'site-policy', core: '^0.1.0',
        register(ctx) { ctx.provide('allowlist', require(${JSON.stringify(require.resolve('awilix'))}).asValue(new Set(['aa:bb:cc:dd:ee:ff']))); },
        apply(ctx) { ctx.hooks.packetReceive.tap('site-policy', () => undefined); },
        commands: [{ name: 'allowlist show', description: 'print the allowlist', async run(c) { c.print('allowed: aa:bb:cc:dd:ee:ff'); return 3; } }],
      }`);
      d.write('pureboot.config.yaml', 'plugins: [./site.js]\n');
      const r = await cli(['plugins'], { cwd: d.dir });
      expect(r.stdout).to.match(/site-policy {2}site-policy\n {2}provides: allowlist\n {2}taps: {5}packetReceive@0/);
      expect(r.stdout).to.include('fileResolve@1000 (core:static-root)');
      const c = await cli(['allowlist', 'show'], { cwd: d.dir });
      expect(c.stdout).to.equal('allowed: aa:bb:cc:dd:ee:ff\n');
      expect(c.code).to.equal(3);
    } finally {
      d.cleanup();
    }
  });

  it('a privileged port without privileges fails with the remedy, not a stack trace', async function () {
    if (!isRoot()) this.skip(); // needs root to drop to an unprivileged user
    const d = new TempDeployment();
    fs.chmodSync(d.dir, 0o755);
    try {
      d.plugin('udp.js', `{
        name: 'udp69', core: '^0.1.0',
        apply(ctx) {
          const dgram = require('node:dgram');
          const { bindError } = require(${JSON.stringify(require.resolve('@pureboot/core'))});
          ctx.onStart(() => new Promise((resolve, reject) => {
            const s = dgram.createSocket('udp4');
            s.once('error', (err) => reject(bindError(err, { protocol: 'udp', address: '127.0.0.1', port: 69, plugin: 'udp69' })));
            s.bind(69, '127.0.0.1', () => { s.close(); resolve(); });
          }));
        },
      }`);
      const cfg = d.write('pureboot.config.yaml', `plugins: [./udp.js]\nserver:\n  dataDir: ${d.dir}/var\n`);
      fs.mkdirSync(`${d.dir}/var`, { mode: 0o777 });
      fs.chmodSync(`${d.dir}/var`, 0o777);
      const argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...tsNodeArgs(), path.join(REPO, 'core/src/cli/main.ts'), 'start', '--config', cfg];
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(argv[0], argv.slice(1), { cwd: d.dir, timeout: 30000, env: { ...process.env, HOME: d.dir } }, (err, _o, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }),
        ),
      );
      expect(r.stderr).to.include('PB_ERR_PORT_PRIVILEGED').and.include('port 69 needs privileges').and.include('setcap');
      expect(r.stderr).to.not.include('    at ');
      expect(r.code).to.equal(1);
    } finally {
      d.cleanup();
    }
  });
});
