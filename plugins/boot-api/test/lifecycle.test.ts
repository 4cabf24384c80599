import { expect } from 'chai';
import type { NodeRecord } from '@pureboot/core';
import { startHarness, type Harness } from './support/harness';
import { tokenizeIpxe } from './support/ipxe-tokenizer';

const MAC = '52:54:00:12:34:56';
const HY = '52-54-00-12-34-56';

const profiles = {
  debian: { kernel: 'debian/{{buildarch}}/linux', initrds: ['debian/{{buildarch}}/initrd.gz'], cmdline: 'console=ttyS0 auto=true hostname={{labels.hostname}}' },
};

async function node(h: Harness): Promise<NodeRecord> {
  const r = await h.inject({ method: 'GET', url: `/api/v1/nodes/${HY}` });
  expect(r.statusCode, r.body).to.equal(200);
  return r.json() as NodeRecord;
}

async function boot(h: Harness, arch = 'x86_64', platform = 'efi'): Promise<string> {
  const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${HY}&buildarch=${arch}&platform=${platform}&ip=198.18.0.10`, auth: false });
  expect(r.statusCode, r.body).to.equal(200);
  return r.body;
}

function callbackPath(script: string): string {
  const m = /pureboot\.callback=(\S+)/.exec(script);
  expect(m, script).to.not.equal(null);
  const u = new URL((m as RegExpExecArray)[1]);
  return `${u.pathname}${u.search}`;
}

async function callback(h: Harness, path: string, event: string): Promise<{ statusCode: number; body: string }> {
  return h.inject({ method: 'POST', url: path, payload: { event }, auth: false });
}

async function transition(h: Harness, to: string): Promise<number> {
  const r = await h.inject({ method: 'POST', url: `/api/v1/nodes/${HY}/transition`, payload: { to, reason: 'test' } });
  return r.statusCode;
}

describe('boot-api: what a boot request writes to a known machine', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bootApi: { profiles, groups: { all: { profile: 'debian' } } } });
  });
  afterEach(() => h.stop());

  const get = (url: string) => h.inject({ method: 'GET', url, auth: false });

  it('nothing while nothing changed within lastSeenIntervalMs; lastSeen after it; a changed arch or attribute at once', async () => {
    expect((await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi&ip=198.18.0.10&serial=S1`)).statusCode).to.equal(200);
    const first = await node(h);
    expect(first).to.include({ arch: 'x86_64-efi', lastSeen: h.clock.now() });
    expect(first.attributes).to.deep.equal({ ip: '198.18.0.10', serial: 'S1' });
    h.clock.advance(30000);
    await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi&ip=198.18.0.10&serial=S1`);
    expect((await node(h)).version, 'same values within the interval: no write').to.equal(first.version);
    h.clock.advance(30000);
    await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi&ip=198.18.0.10&serial=S1`);
    const later = await node(h);
    expect(later.version).to.equal(first.version + 1);
    expect(later.lastSeen).to.equal(h.clock.now());
    h.clock.advance(1000);
    await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi&ip=198.18.0.11&serial=S1`);
    const moved = await node(h);
    expect(moved).to.include({ version: later.version + 1, lastSeen: h.clock.now() });
    expect(moved.attributes).to.deep.equal({ ip: '198.18.0.11', serial: 'S1' });
    h.clock.advance(1000);
    await get(`/api/v1/boot?mac=${HY}&buildarch=arm64&platform=efi&ip=198.18.0.11`);
    expect(await node(h)).to.include({ arch: 'arm64-efi', version: moved.version + 1 });
    expect((await node(h)).attributes, 'an absent variable keeps the stored value').to.deep.equal({ ip: '198.18.0.11', serial: 'S1' });
  });

  it('a scriptRender tap gets a record of its own: changing it fails nothing and reaches nothing stored', async () => {
    await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi`);
    let seen = '';
    h.k.hooks.scriptRender.tap('site:mutates', (script, ctx) => {
      const n = ctx.node as NodeRecord; // a known machine: the context has its record
      n.labels.touched = 'yes';
      n.history.push({ from: null, to: 'active', at: 0, reason: 'not stored' });
      seen = n.labels.touched;
      return script;
    });
    const r = await get(`/api/v1/boot?mac=${HY}&buildarch=x86_64&platform=efi`);
    expect(r.statusCode, r.body).to.equal(200);
    expect(seen).to.equal('yes');
    const n = await node(h);
    expect(n.labels).to.deep.equal({});
    expect(n.history).to.have.length(1);
  });
});

describe('boot-api lifecycle through the HTTP API alone', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ bootApi: { profiles, groups: { all: { profile: 'debian' } }, timeouts: { installing: 30 * 60 * 1000 } } });
  });
  afterEach(() => h.stop());

  it('discovered → pending → installing → installed → active, then a reinstall, and installing times out to failed', async () => {
    const notified: string[] = [];
    h.k.hooks.nodeStateChanged.tap('test:observer', (e) => {
      notified.push(`${e.from}>${e.to}`);
    });
    // 1. Unknown machine: registered as discovered, boots locally.
    let script = await boot(h);
    expect(script).to.match(/^#!ipxe\n/).and.include('exit 0');
    let n = await node(h);
    expect(n.state).to.equal('discovered');
    expect(n.arch).to.equal('x86_64-efi');
    expect(n.attributes.ip).to.equal('198.18.0.10');

    // 2. Operator queues an install.
    expect(await transition(h, 'pending')).to.equal(200);
    script = await boot(h);
    expect(script).to.include('kernel http://198.18.0.1:8080/api/v1/assets/debian/x86_64/linux initrd=initrd0 console=ttyS0');
    expect((await node(h)).state).to.equal('installing');

    // 3. A reboot during the install does not reinstall (one-shot netboot).
    script = await boot(h);
    expect(script).to.not.include('kernel ');
    expect(script).to.include('install not confirmed yet');

    // 4. Installer callbacks.
    expect(await transition(h, 'pending')).to.equal(200);
    const installScript = await boot(h);
    const cbPath = callbackPath(installScript);
    expect((await callback(h, cbPath, 'started')).statusCode).to.equal(200);
    expect((await callback(h, cbPath, 'progress')).statusCode).to.equal(200);
    expect((await callback(h, cbPath, 'installed')).statusCode).to.equal(200);
    expect((await node(h)).state).to.equal('installed');
    // a wrong token is refused
    expect((await callback(h, cbPath.replace(/token=[^&]+/, 'token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'installed')).statusCode).to.equal(401);

    // 5. First local boot → active; later boots stay local.
    script = await boot(h);
    expect(script).to.include('first local boot');
    expect((await node(h)).state).to.equal('active');
    script = await boot(h);
    expect(script).to.not.include('kernel ');
    expect((await node(h)).state).to.equal('active');

    // 6. Reinstall: active → pending → install served once.
    expect(await transition(h, 'pending')).to.equal(200);
    expect(await boot(h)).to.include('kernel ');
    expect(await boot(h)).to.not.include('kernel ');

    // 7. No callback: installing times out to failed on the injected clock.
    h.clock.advance(29 * 60 * 1000);
    await h.settle();
    expect((await node(h)).state).to.equal('installing');
    h.clock.advance(2 * 60 * 1000);
    await h.settle();
    n = await node(h);
    expect(n.state).to.equal('failed');
    expect(n.history[n.history.length - 1]).to.include({ from: 'installing', to: 'failed', actor: 'timeout' });
    // failed machines boot locally, never reinstall on their own
    expect(await boot(h)).to.not.include('kernel ');
    expect((await node(h)).state).to.equal('failed');
    // a late "installed" callback does not resurrect it
    expect((await callback(h, cbPath, 'installed')).statusCode).to.equal(409);

    // 8. The whole story is in the timeline.
    await h.settle();
    const tl = (await h.inject({ method: 'GET', url: `/api/v1/nodes/${HY}/timeline` })).json() as { events: Array<{ kind: string; detail: Record<string, unknown> }> };
    const kinds = tl.events.map((e) => e.kind);
    expect(kinds).to.include.members(['http.script', 'lifecycle.transition', 'callback.started', 'callback.installed']);
    const transitions = tl.events.filter((e) => e.kind === 'lifecycle.transition').map((e) => `${e.detail.from}>${e.detail.to}`);
    expect(transitions).to.deep.equal([
      'null>discovered',
      'discovered>pending',
      'pending>installing',
      'installing>pending',
      'pending>installing',
      'installing>installed',
      'installed>active',
      'active>pending',
      'pending>installing',
      'installing>failed',
    ]);
    // and each one fired the core's nodeStateChanged notification
    expect(notified).to.deep.equal(transitions);
  });

  it('refuses transitions the table does not allow (409) and unknown machines (404)', async () => {
    await boot(h);
    expect(await transition(h, 'active')).to.equal(409);
    expect(await transition(h, 'installed')).to.equal(409);
    const r = await h.inject({ method: 'POST', url: '/api/v1/nodes/02-00-00-00-00-99/transition', payload: { to: 'pending' } });
    expect(r.statusCode).to.equal(404);
  });

  it('two racing boots of a pending machine get exactly one install script', async () => {
    await boot(h);
    expect(await transition(h, 'pending')).to.equal(200);
    const scripts = await Promise.all(Array.from({ length: 8 }, () => boot(h)));
    expect(scripts.filter((s) => s.includes('kernel ')).length).to.equal(1);
    expect((await node(h)).state).to.equal('installing');
  });

  it('the install script is valid iPXE structure: signature, labels that every goto names', async () => {
    await boot(h);
    await transition(h, 'pending');
    const s = tokenizeIpxe(await boot(h, 'i386', 'pcbios'));
    expect(s.signature).to.equal('#!ipxe');
    for (const c of s.commands.filter((x) => x.argv[0] === 'goto')) expect(s.labels).to.include(c.argv[1]);
  });
});
