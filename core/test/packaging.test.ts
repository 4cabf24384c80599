import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const REPO = path.resolve(__dirname, '..', '..');

function sh(cmd: string, args: string[], cwd: string, timeout = 240000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A clean environment for npm: no workspace flags or export conditions from the test runner.
    const env = { ...process.env, NODE_OPTIONS: '' };
    execFile(cmd, args, { cwd, timeout, env, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const ACME_PLUGIN = `'use strict';
const { asFunction } = require('awilix');
const { definePlugin, bufferFile, Stage } = require('@pureboot/core');

// A site plugin from outside the PureBoot repository: only listed machines may boot.
module.exports = definePlugin({
  name: 'pureboot-plugin-acme',
  core: '^0.1.0',
  optionsSchema: {
    type: 'object', additionalProperties: false, required: ['allow'],
    properties: {
      allow: { type: 'array', items: { type: 'string', pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' } },
      bootFile: { type: 'string', default: 'acme.efi' },
      banner: { type: 'string', default: 'ACME' },
    },
  },
  register(ctx) {
    ctx.provide('acmeInventory', asFunction(() => ({ allowed: (mac) => ctx.options.allow.includes(mac), banner: ctx.options.banner })).singleton());
  },
  apply({ hooks, services, options }) {
    hooks.packetReceive.tap('acme', (p) => (p.mac && !services.acmeInventory.allowed(p.mac) ? { drop: true, reason: 'not in inventory' } : undefined));
    hooks.leaseDecision.tapPromise('acme', async (c) => (services.acmeInventory.allowed(c.mac) ? { action: 'answer', bootFile: options.bootFile } : undefined));
    hooks.fileResolve.tapPromise({ name: 'acme', stage: Stage.DEFAULT }, async (r) => (r.path === 'acme/motd.txt' ? bufferFile(Buffer.from('welcome to acme\\n')) : undefined));
    hooks.scriptRender.tap('acme', (script) => script + '\\necho ' + options.banner);
  },
});
`;

const CONSUMER = `'use strict';
module.exports = {
  name: 'consumer', core: '^0.1.0', dependencies: ['acme'], requires: ['acmeInventory'],
  apply({ hooks, services }) {
    hooks.scriptRender.tap({ name: 'consumer', stage: 100 }, (script, c) => script + '\\necho ' + services.acmeInventory.banner + ' knows ' + c.mac + '=' + services.acmeInventory.allowed(c.mac));
  },
};
`;

const DRIVER = `'use strict';
const { Pureboot } = require('@pureboot/core');
(async () => {
  const k = await Pureboot.create({ configFile: 'pureboot.config.yaml' });
  const pkt = (mac) => ({ protocol: 'dhcp', messageType: 'DISCOVER', remote: { address: '0.0.0.0', port: 68 }, mac, packet: {} });
  const lease = (mac) => ({ protocol: 'dhcp', messageType: 'DISCOVER', mac, clientId: '01', pxe: { archName: 'bios', isPxe: true, isHttpBoot: false, isIpxe: false }, packet: {} });
  const file = await k.hooks.fileResolve.promise({ protocol: 'tftp', path: 'acme/motd.txt', client: { address: '198.18.0.5' } });
  const reader = await file.open();
  const out = {
    dropStranger: await k.hooks.packetReceive.promise(pkt('02:00:00:00:00:99')),
    passFriend: await k.hooks.packetReceive.promise(pkt('52:54:00:12:34:56')) === undefined,
    leaseFriend: await k.hooks.leaseDecision.promise(lease('52:54:00:12:34:56')),
    leaseStranger: (await k.hooks.leaseDecision.promise(lease('02:00:00:00:00:99'))) === undefined,
    file: (await reader.read(0, file.size)).toString(),
    script: await k.hooks.scriptRender.promise('#!ipxe', { mac: '52:54:00:12:34:56', query: {}, baseUrl: 'http://198.18.0.1:8080', client: { address: '198.18.0.5' } }),
    plugins: k.plugins.map((p) => ({ key: p.key, provides: p.provides, version: p.version })),
  };
  await reader.close();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e.code, e.message); process.exit(1); });
`;

describe('packaging: a plugin from outside the workspace, installed from packed tarballs', function () {
  this.timeout(300000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pureboot-pack-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is loaded by name from YAML, validated, provides a service another plugin consumes, and taps all four hooks', async () => {
    // 1. Pack @pureboot/core (prepack compiles it).
    const core = await sh('npm', ['pack', '--pack-destination', tmp], path.join(REPO, 'core'));
    expect(core.code, core.stderr).to.equal(0);
    const coreTgz = path.join(tmp, core.stdout.trim().split('\n').pop() as string);

    // 2. A plugin package written outside the workspace, packed.
    const pluginDir = path.join(tmp, 'acme-plugin');
    fs.mkdirSync(pluginDir);
    fs.writeFileSync(path.join(pluginDir, 'index.js'), ACME_PLUGIN);
    fs.writeFileSync(
      path.join(pluginDir, 'package.json'),
      JSON.stringify({ name: 'pureboot-plugin-acme', version: '1.2.3', main: 'index.js', peerDependencies: { '@pureboot/core': '^0.1.0' }, dependencies: { awilix: '^12.0.5' } }),
    );
    const plugin = await sh('npm', ['pack', '--pack-destination', tmp], pluginDir);
    expect(plugin.code, plugin.stderr).to.equal(0);
    const pluginTgz = path.join(tmp, plugin.stdout.trim().split('\n').pop() as string);

    // 3. A deployment that installs both tarballs, with a local consumer plugin and a YAML config.
    const deploy = path.join(tmp, 'deploy');
    fs.mkdirSync(deploy);
    fs.writeFileSync(path.join(deploy, 'package.json'), JSON.stringify({ name: 'site', private: true }));
    const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', coreTgz, pluginTgz], deploy);
    expect(install.code, install.stderr).to.equal(0);
    fs.writeFileSync(path.join(deploy, 'consumer.js'), CONSUMER);
    fs.writeFileSync(path.join(deploy, 'drive.js'), DRIVER);
    fs.writeFileSync(path.join(deploy, 'pureboot.config.yaml'), 'plugins:\n  - acme\n  - ./consumer.js\nacme:\n  allow: ["52:54:00:12:34:56"]\n  bootFile: site.efi\n');

    // 4. Fire every hook through the installed (compiled) core and assert each effect.
    const run = await sh(process.execPath, ['drive.js'], deploy, 60000);
    expect(run.code, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out.dropStranger).to.deep.equal({ drop: true, reason: 'not in inventory' });
    expect(out.passFriend).to.equal(true);
    expect(out.leaseFriend).to.deep.equal({ action: 'answer', bootFile: 'site.efi' });
    expect(out.leaseStranger).to.equal(true);
    expect(out.file).to.equal('welcome to acme\n');
    expect(out.script).to.equal('#!ipxe\necho ACME\necho ACME knows 52:54:00:12:34:56=true');
    expect(out.plugins).to.deep.equal([
      { key: 'acme', provides: ['acmeInventory'], version: '1.2.3' },
      { key: 'consumer', provides: [] },
    ]);

    // 5. The installed CLI validates the plugin's options against its schema.
    fs.writeFileSync(path.join(deploy, 'pureboot.config.yaml'), 'plugins: [acme, ./consumer.js]\nacme:\n  allow: ["not-a-mac"]\n  bootfile: x\n');
    const check = await sh(path.join(deploy, 'node_modules', '.bin', 'pureboot'), ['config', 'check'], deploy, 60000);
    expect(check.code).to.equal(78);
    expect(check.stderr).to.include('acme.allow[0]: must match pattern').and.include('acme.bootfile: unknown key — did you mean "acme.bootFile"?');
  });
});
