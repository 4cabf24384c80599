import { expect } from 'chai';
import { ConfigError, loadDeployment, PurebootError } from '@pureboot/core';
import { TempDeployment } from './support/temp-plugins';

async function failure(p: Promise<unknown>): Promise<PurebootError> {
  try {
    await p;
  } catch (err) {
    return err as PurebootError;
  }
  throw new Error('expected a failure');
}

const TFTP_LIKE = `{
  name: 'tftp',
  core: '^0.1.0',
  optionsSchema: {
    type: 'object', additionalProperties: false,
    properties: { port: { type: 'integer', minimum: 1, maximum: 65535, default: 69 }, blksize: { type: 'integer', minimum: 8, maximum: 65464, default: 1468 } },
  },
}`;

describe('config loading and errors', () => {
  let d: TempDeployment;
  beforeEach(() => {
    d = new TempDeployment();
    d.plugin('tftp.js', TFTP_LIKE);
  });
  afterEach(() => d.cleanup());

  it('suggests the nearest key for a typo, naming file and key path', async () => {
    const file = d.write('pureboot.config.yaml', 'plugins: [./tftp.js]\ntftp:\n  blksze: 1024\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.code).to.equal('PB_ERR_CONFIG_INVALID');
    expect(err.message).to.include(`${file}: tftp.blksze: unknown key — did you mean "tftp.blksize"?`);
  });

  it('reports a wrong type with what was expected and what was found', async () => {
    d.write('pureboot.config.yaml', 'plugins: [./tftp.js]\ntftp:\n  port: sixty-nine\nserver:\n  shutdownGraceMs: -1\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err.message).to.include('tftp.port: expected integer, got string "sixty-nine"');
    expect(err.message).to.include('server.shutdownGraceMs: must be >= 0, got number -1');
  });

  it('names an unknown plugin with the npm install command', async () => {
    const file = d.write('pureboot.config.yaml', 'plugins: [no-such-thing]\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err.code).to.equal('PB_ERR_PLUGIN_NOT_FOUND');
    expect(err.message).to.equal(`${file}: plugins: plugin "no-such-thing" is not installed (install it: npm install @pureboot/plugin-no-such-thing)`);
  });

  it('gives the line of a YAML syntax error', async () => {
    d.write('pureboot.config.yaml', 'plugins:\n  - ./tftp.js\ntftp:\n  port: [69\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err.code).to.equal('PB_ERR_CONFIG_PARSE');
    expect(err.message).to.match(/pureboot\.config\.yaml:\d+:\d+: YAML syntax error \(line \d+\)/);
    expect(Number(/line (\d+)/.exec(err.message)?.[1])).to.be.within(4, 5);
  });

  it('names a missing dependency between plugins', async () => {
    d.plugin('proxy.js', `{ name: 'proxy-dhcp', core: '^0.1.0', dependencies: ['@pureboot/plugin-tftp', 'boot-api'] }`);
    const file = d.write('pureboot.config.yaml', 'plugins: [./proxy.js, ./tftp.js]\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err.code).to.equal('PB_ERR_PLUGIN_DEPENDENCY');
    expect(err.message).to.include(`${file}: plugins: plugin "proxy-dhcp" depends on plugin "boot-api", which is not in plugins`);
  });

  it('orders plugins after their dependencies and rejects cycles', async () => {
    d.plugin('a.js', `{ name: 'a', core: '^0.1.0', dependencies: ['b'] }`);
    d.plugin('b.js', `{ name: 'b', core: '^0.1.0' }`);
    const ok = await loadDeployment({ config: { plugins: ['./a.js', './b.js', './tftp.js'] }, configDir: d.dir });
    expect(ok.plugins.map((p) => p.key)).to.deep.equal(['b', 'a', 'tftp']);
    d.plugin('c.js', `{ name: 'c', core: '^0.1.0', dependencies: ['e'] }`);
    d.plugin('e.js', `{ name: 'e', core: '^0.1.0', dependencies: ['c'] }`);
    const err = await failure(loadDeployment({ config: { plugins: ['./c.js', './e.js'] }, configDir: d.dir }));
    expect(err.code).to.equal('PB_ERR_PLUGIN_CYCLE');
    expect(err.message).to.include('c → e → c');
  });

  it('rejects a plugin for another core version and a malformed definition', async () => {
    d.plugin('old.js', `{ name: 'old', core: '^9.0.0' }`);
    let err = await failure(loadDeployment({ config: { plugins: ['./old.js'] }, configDir: d.dir }));
    expect(err.code).to.equal('PB_ERR_PLUGIN_CORE_VERSION');
    d.plugin('bad.js', `{ name: 'bad', core: 'whenever', apply: 42 }`);
    err = await failure(loadDeployment({ config: { plugins: ['./bad.js'] }, configDir: d.dir }));
    expect(err.code).to.equal('PB_ERR_PLUGIN_INVALID');
    expect(err.message).to.include('"core" must be a semver range').and.include('"apply" must be a function');
  });

  it('applies defaults, resolves paths against the config folder, and takes PUREBOOT_ overrides', async () => {
    d.write('pureboot.config.yaml', 'plugins: [./tftp.js]\n');
    const dep = await loadDeployment({ cwd: d.dir, env: { PUREBOOT_TFTP__PORT: '1069', PUREBOOT_SERVER__LOG_LEVEL: 'warn' } });
    expect(dep.config.tftp).to.deep.equal({ port: 1069, blksize: 1468 });
    expect(dep.config.server.logLevel).to.equal('warn');
    expect(dep.config.server.dataDir).to.equal(`${d.dir}/var`);
    expect(dep.config.files.root).to.equal(`${d.dir}/tftp`);
  });

  it('says which environment variable holds a bad value', async () => {
    d.write('pureboot.config.yaml', 'plugins: [./tftp.js]\n');
    const err = await failure(loadDeployment({ cwd: d.dir, env: { PUREBOOT_TFTP__PORT: '"abc"' } }));
    expect(err.message).to.include('environment PUREBOOT_TFTP__PORT: tftp.port: expected integer, got string "abc"');
  });

  it('explains options for a plugin that is not loaded, and an unknown top-level key', async () => {
    const file = d.write('pureboot.config.yaml', 'plugins: []\nserverr: {}\n');
    const err = await failure(loadDeployment({ cwd: d.dir }));
    expect(err.message).to.include(`${file}: serverr: unknown key — did you mean "server"?`);
  });

  it('finds .purebootrc.json and package.json#pureboot, and reports a missing --config file', async () => {
    d.write('package.json', JSON.stringify({ name: 'site', pureboot: { server: { logLevel: 'error' } } }));
    expect((await loadDeployment({ cwd: d.dir })).config.server.logLevel).to.equal('error');
    const err = await failure(loadDeployment({ cwd: d.dir, configFile: 'nope.yaml' }));
    expect(err.code).to.equal('PB_ERR_CONFIG_NOT_FOUND');
    expect(err.message).to.include('nope.yaml');
  });
});
