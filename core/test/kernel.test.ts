import dgram from 'node:dgram';
import { expect } from 'chai';
import { Pureboot, PurebootError } from '@pureboot/core';
import { captureLogger } from './support/log-capture';
import { TempDeployment } from './support/temp-plugins';

const CORE = JSON.stringify(require.resolve('@pureboot/core'));

async function failure(p: Promise<unknown>): Promise<PurebootError> {
  try {
    await p;
  } catch (err) {
    return err as PurebootError;
  }
  throw new Error('expected a failure');
}

describe('kernel: DI, services and plugin lifecycle', () => {
  let d: TempDeployment;
  const events: string[] = [];
  beforeEach(() => {
    d = new TempDeployment();
    events.length = 0;
    (globalThis as Record<string, unknown>).__pbEvents = events;
  });
  afterEach(() => d.cleanup());

  const lifecyclePlugin = (name: string, deps: string[] = [], extra = '') => `{
    name: '${name}', core: '^0.1.0', dependencies: ${JSON.stringify(deps)},
    apply(ctx) {
      ctx.onStart(async () => { globalThis.__pbEvents.push('start:${name}'); });
      ctx.onStop(async () => { globalThis.__pbEvents.push('stop:${name}'); });
    },
    ${extra}
  }`;

  it('starts plugins in dependency order and stops them in reverse', async () => {
    d.plugin('a.js', lifecyclePlugin('a', ['b']));
    d.plugin('b.js', lifecyclePlugin('b'));
    d.plugin('c.js', lifecyclePlugin('c'));
    const k = await Pureboot.create({ config: { plugins: ['./a.js', './c.js', './b.js'] }, configDir: d.dir, logger: captureLogger().logger });
    await k.start();
    await k.stop('test');
    expect(events).to.deep.equal(['start:b', 'start:a', 'start:c', 'stop:c', 'stop:a', 'stop:b']);
  });

  it('a plugin consumes another plugin\'s service through the container (PROXY injection)', async () => {
    d.plugin('provider.js', `{
      name: 'provider', core: '^0.1.0',
      register(ctx) {
        const { asFunction } = require(${JSON.stringify(require.resolve('awilix'))});
        ctx.provide('greeter', asFunction(({ config }) => ({ greet: (who) => 'hello ' + who + ' from ' + config.server.logLevel })).singleton());
      },
    }`);
    d.plugin('consumer.js', `{
      name: 'consumer', core: '^0.1.0', dependencies: ['provider'], requires: ['greeter'],
      apply(ctx) { ctx.hooks.scriptRender.tap('consumer', (s, c) => s + '\\necho ' + ctx.services.greeter.greet(c.mac)); },
    }`);
    const k = await Pureboot.create({ config: { plugins: ['./consumer.js', './provider.js'], server: { logLevel: 'warn' } }, configDir: d.dir });
    const script = await k.hooks.scriptRender.promise('#!ipxe', { mac: 'aa:bb:cc:dd:ee:ff', query: {}, baseUrl: 'http://x', client: { address: '198.18.0.2' } });
    expect(script).to.equal('#!ipxe\necho hello aa:bb:cc:dd:ee:ff from warn');
    expect(k.plugins.find((p) => p.key === 'provider')?.provides).to.deep.equal(['greeter']);
  });

  it('two plugins providing one service is an error naming both, unless services: picks one', async () => {
    const provider = (name: string) => `{
      name: '${name}', core: '^0.1.0',
      register(ctx) { ctx.provide('leaseStore', require(${JSON.stringify(require.resolve('awilix'))}).asValue({ who: '${name}' })); },
    }`;
    d.plugin('s1.js', provider('storage-one'));
    d.plugin('s2.js', provider('storage-two'));
    const err = await failure(Pureboot.create({ config: { plugins: ['./s1.js', './s2.js'] }, configDir: d.dir }));
    expect(err.code).to.equal('PB_ERR_SERVICE_CONFLICT');
    expect(err.message).to.include('"storage-one" and "storage-two"').and.include('services: { leaseStore: storage-one }');
    const k = await Pureboot.create({ config: { plugins: ['./s1.js', './s2.js'], services: { leaseStore: 'storage-two' } }, configDir: d.dir });
    expect(k.services.leaseStore).to.deep.equal({ who: 'storage-two' });
  });

  it('a required service nobody provides is named, with a plugin that would provide it', async () => {
    d.plugin('dhcp.js', `{ name: 'dhcp', core: '^0.1.0', requires: ['leaseStore'] }`);
    const err = await failure(Pureboot.create({ config: { plugins: ['./dhcp.js'] }, configDir: d.dir }));
    expect(err.code).to.equal('PB_ERR_SERVICE_MISSING');
    expect(err.message).to.include('plugin "dhcp" requires service "leaseStore"').and.include('@pureboot/plugin-storage-file');
  });

  it('when a plugin fails to start, the ones already started are stopped again', async () => {
    d.plugin('a.js', lifecyclePlugin('a'));
    d.plugin('boom.js', `{ name: 'boom', core: '^0.1.0', dependencies: ['a'], apply(ctx) { ctx.onStart(() => { throw new Error('no socket'); }); } }`);
    const k = await Pureboot.create({ config: { plugins: ['./boom.js', './a.js'] }, configDir: d.dir, logger: captureLogger().logger });
    const err = await failure(k.start());
    expect(err.code).to.equal('PB_ERR_PLUGIN_START');
    expect(err.message).to.include('plugin "boom" failed to start: no socket');
    expect(events).to.deep.equal(['start:a', 'stop:a']);
  });

  it('shutdown is bounded by server.shutdownGraceMs', async () => {
    d.plugin('slow.js', `{ name: 'slow', core: '^0.1.0', apply(ctx) { ctx.onStop(() => new Promise(() => {})); } }`);
    const cap = captureLogger();
    const k = await Pureboot.create({ config: { plugins: ['./slow.js'], server: { shutdownGraceMs: 100 } }, configDir: d.dir, logger: cap.logger });
    await k.start();
    const t0 = Date.now();
    expect(await k.stop()).to.deep.equal({ timedOut: true });
    expect(Date.now() - t0).to.be.lessThan(1000);
    expect(cap.lines().some((l) => l.code === 'PB_ERR_SHUTDOWN_TIMEOUT')).to.equal(true);
  });

  it('the built-in static-root resolver answers fileResolve at the BUILTIN stage and plugins pre-empt it', async () => {
    d.write('tftp/bios/undionly.kpxe', 'ROM');
    d.plugin('gen.js', `{
      name: 'gen', core: '^0.1.0',
      apply(ctx) {
        const { bufferFile } = require(${CORE});
        ctx.hooks.fileResolve.tapPromise('gen', async (req) => req.path === 'bios/undionly.kpxe' && req.client.address === '198.18.0.9' ? bufferFile(Buffer.from('GENERATED')) : undefined);
      },
    }`);
    const k = await Pureboot.create({ config: { plugins: ['./gen.js'] }, configDir: d.dir });
    const read = async (address: string, p: string) => {
      const r = await k.hooks.fileResolve.promise({ protocol: 'tftp', path: p, client: { address } });
      if (r?.status !== 'found') return r?.status;
      const reader = await r.open();
      const data = await reader.read(0, r.size);
      await reader.close();
      return data.toString();
    };
    expect(await read('198.18.0.8', '/bios\\undionly.kpxe')).to.equal('ROM');
    expect(await read('198.18.0.9', 'bios/undionly.kpxe')).to.equal('GENERATED');
    expect(await read('198.18.0.8', '../etc/passwd')).to.equal('denied');
    expect(await read('198.18.0.8', 'missing.efi')).to.equal('not-found');
    expect(k.hookTaps().fileResolve.map((t) => t.name)).to.deep.equal(['gen', 'core:static-root']);
  });

  it('a port already in use fails start with PB_ERR_PORT_IN_USE and the key to change', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const port = blocker.address().port;
    d.plugin('udp.js', `{
      name: 'udp', core: '^0.1.0',
      optionsSchema: { type: 'object', additionalProperties: false, properties: { port: { type: 'integer' } } },
      apply(ctx) {
        const dgram = require('node:dgram');
        const { bindError } = require(${CORE});
        let sock;
        ctx.onStart(() => new Promise((resolve, reject) => {
          sock = dgram.createSocket('udp4');
          sock.once('error', (err) => reject(bindError(err, { protocol: 'udp', address: '127.0.0.1', port: ctx.options.port, plugin: 'udp' })));
          sock.bind(ctx.options.port, '127.0.0.1', resolve);
        }));
        ctx.onStop(() => sock && sock.close());
      },
    }`);
    try {
      const k = await Pureboot.create({ config: { plugins: ['./udp.js'], udp: { port } }, configDir: d.dir, logger: captureLogger().logger });
      const err = await failure(k.start());
      expect(err.code).to.equal('PB_ERR_PORT_IN_USE');
      expect(err.message).to.include(`127.0.0.1:${port}/udp`).and.include('udp.port');
    } finally {
      blocker.close();
    }
  });
});
