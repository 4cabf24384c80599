import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Stage } from '@pureboot/core';
import { startHarness, type Harness } from './support/harness';
import { tokenizeIpxe } from './support/ipxe-tokenizer';

const profiles = {
  base: { kernel: 'base/linux', cmdline: 'profile=base' },
  web: { kernel: 'web/linux', cmdline: 'profile=web' },
  efi: { kernel: 'efi/linux', cmdline: 'profile=efi' },
  special: { kernel: 'special/linux', cmdline: 'profile=special' },
  mine: { kernel: 'mine/linux', cmdline: 'profile=mine' },
};
const groups = {
  everyone: { profile: 'base' }, // score 0
  uefi: { profile: 'efi', arch: 'efi' }, // 1
  'web-efi': { profile: 'web', arch: 'x86_64-efi', labels: { role: 'web' } }, // 2
  'one-machine': { profile: 'special', mac: '52-54-00-0d-00-04' }, // 100
};

describe('boot-api profiles and groups: most specific wins, ties refused, CRUD, persistence', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ bootApi: { profiles, groups } });
  });
  after(() => h.stop());

  async function installKernelFor(mac: string, labels: Record<string, string>, arch: string, profile?: string): Promise<string> {
    const created = await h.inject({ method: 'POST', url: '/api/v1/nodes', payload: { mac, state: 'pending', labels, ...(profile ? { profile } : {}) } });
    expect(created.statusCode, created.body).to.equal(201);
    const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${mac}&arch=${arch}`, auth: false });
    expect(r.statusCode).to.equal(200);
    const kernel = tokenizeIpxe(r.body).commands.find((c) => c.argv[0] === 'kernel');
    return kernel ? (kernel.argv.find((a) => a.startsWith('profile=')) as string) : 'none';
  }

  it('selection: MAC group > labels+arch > arch > catch-all; the machine’s own profile beats every group', async () => {
    expect(await installKernelFor('52-54-00-0d-00-01', {}, 'i386-pcbios')).to.equal('profile=base');
    expect(await installKernelFor('52-54-00-0d-00-02', {}, 'x86_64-efi')).to.equal('profile=efi');
    expect(await installKernelFor('52-54-00-0d-00-03', { role: 'web' }, 'x86_64-efi')).to.equal('profile=web');
    expect(await installKernelFor('52-54-00-0d-00-04', { role: 'web' }, 'x86_64-efi')).to.equal('profile=special');
    expect(await installKernelFor('52-54-00-0d-00-05', { role: 'web' }, 'x86_64-efi', 'mine')).to.equal('profile=mine');
    // labels that do not match fall back to the less specific group
    expect(await installKernelFor('52-54-00-0d-00-06', { role: 'db' }, 'arm64-efi')).to.equal('profile=efi');
  });

  it('an equally specific, overlapping group is refused (409 GROUP_TIE); a more specific or disjoint one is accepted', async () => {
    let r = await h.inject({ method: 'PUT', url: '/api/v1/groups/other-efi', payload: { profile: 'mine', arch: 'x86_64-efi' } });
    expect(r.statusCode, r.body).to.equal(409);
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_GROUP_TIE');
    // same score as web-efi, but no machine can match both (role differs)
    r = await h.inject({ method: 'PUT', url: '/api/v1/groups/db-efi', payload: { profile: 'mine', arch: 'x86_64-efi', labels: { role: 'db' } } });
    expect(r.statusCode, r.body).to.equal(201);
    // overlaps web-efi but is more specific
    r = await h.inject({ method: 'PUT', url: '/api/v1/groups/web-efi-t1', payload: { profile: 'mine', arch: 'x86_64-efi', labels: { role: 'web', tier: '1' } } });
    expect(r.statusCode, r.body).to.equal(201);
    expect(await installKernelFor('52-54-00-0d-00-07', { role: 'web', tier: '1' }, 'x86_64-efi')).to.equal('profile=mine');
    // the same criteria as web-efi under another name: a tie
    r = await h.inject({ method: 'PUT', url: '/api/v1/groups/web-efi-2', payload: { profile: 'base', arch: 'x86_64-efi', labels: { role: 'web' } } });
    expect(r.statusCode).to.equal(409);
    for (const g of ['db-efi', 'web-efi-t1']) expect((await h.inject({ method: 'DELETE', url: `/api/v1/groups/${g}` })).statusCode).to.equal(204);
  });

  it('CRUD through the API; config entries are read-only; a used profile cannot be deleted', async () => {
    let r = await h.inject({ method: 'PUT', url: '/api/v1/profiles/rescue', payload: { script: '#!ipxe\necho rescue {{mac}}\nshell\n' } });
    expect(r.statusCode, r.body).to.equal(201);
    expect(r.json()).to.include({ name: 'rescue', kind: 'script', source: 'api' });
    r = await h.inject({ method: 'PUT', url: '/api/v1/profiles/rescue', payload: { script: '#!ipxe\necho rescue 2 {{mac}}\nshell\n' } });
    expect(r.statusCode).to.equal(200);
    r = await h.inject({ method: 'PUT', url: '/api/v1/groups/rescue-state', payload: { profile: 'rescue', state: 'pending', arch: 'i386-pcbios', labels: { rescue: 'yes' } } });
    expect(r.statusCode, r.body).to.equal(201);
    expect((await h.inject({ method: 'GET', url: '/api/v1/groups/rescue-state' })).json()).to.include({ profile: 'rescue', source: 'api' });
    const names = ((await h.inject({ method: 'GET', url: '/api/v1/groups' })).json() as Array<{ name: string }>).map((g) => g.name);
    expect(names[0]).to.equal('one-machine'); // most specific first
    expect(names).to.include('rescue-state');

    r = await h.inject({ method: 'DELETE', url: '/api/v1/profiles/rescue' });
    expect(r.statusCode).to.equal(409);
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_PROFILE_IN_USE');
    for (const [method, url, payload] of [
      ['PUT', '/api/v1/profiles/base', { kernel: 'x' }],
      ['DELETE', '/api/v1/profiles/base', undefined],
      ['PUT', '/api/v1/groups/everyone', { profile: 'web' }],
      ['DELETE', '/api/v1/groups/everyone', undefined],
    ] as const) {
      r = await h.inject({ method, url, payload });
      expect(r.statusCode, `${method} ${url}`).to.equal(409);
      expect(r.json().code).to.equal('PB_ERR_BOOTAPI_READONLY');
    }
    expect((await h.inject({ method: 'GET', url: '/api/v1/profiles/nope' })).json().code).to.equal('PB_ERR_BOOTAPI_PROFILE_NOT_FOUND');
    expect((await h.inject({ method: 'DELETE', url: '/api/v1/groups/nope' })).json().code).to.equal('PB_ERR_BOOTAPI_GROUP_NOT_FOUND');
    r = await h.inject({ method: 'PUT', url: '/api/v1/groups/dangling', payload: { profile: 'does-not-exist', mac: '52:54:00:0d:ff:ff' } });
    expect(r.statusCode).to.equal(400);
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_PROFILE_NOT_FOUND');

    expect((await h.inject({ method: 'DELETE', url: '/api/v1/groups/rescue-state' })).statusCode).to.equal(204);
    expect((await h.inject({ method: 'DELETE', url: '/api/v1/profiles/rescue' })).statusCode).to.equal(204);
    expect((await h.inject({ method: 'GET', url: '/api/v1/profiles/rescue' })).statusCode).to.equal(404);
  });

  it('machines: list with state/label/arch filters and cursor paging; get, patch, delete', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await h.inject({ method: 'GET', url: `/api/v1/nodes?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
      expect(r.statusCode).to.equal(200);
      const page = r.json() as { items: Array<{ mac: string }>; nextCursor?: string };
      expect(page.items.length).to.be.at.most(2);
      all.push(...page.items.map((n) => n.mac));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).to.deep.equal([...all].sort());
    expect(new Set(all).size).to.equal(all.length);
    expect(all).to.include.members(['52:54:00:0d:00:01', '52:54:00:0d:00:06']);

    const web = (await h.inject({ method: 'GET', url: '/api/v1/nodes?label=role=web&arch=x86_64-efi' })).json() as { items: Array<{ mac: string }> };
    expect(web.items.map((n) => n.mac)).to.deep.equal(['52:54:00:0d:00:03', '52:54:00:0d:00:04', '52:54:00:0d:00:05', '52:54:00:0d:00:07']);
    const installing = (await h.inject({ method: 'GET', url: '/api/v1/nodes?state=installing&label=role=db' })).json() as { items: Array<{ mac: string }> };
    expect(installing.items.map((n) => n.mac)).to.deep.equal(['52:54:00:0d:00:06']);

    let r = await h.inject({ method: 'PATCH', url: '/api/v1/nodes/52-54-00-0d-00-06', payload: { labels: { role: null, rack: 'r2' }, profile: 'mine' } });
    expect(r.statusCode, r.body).to.equal(200);
    expect(r.json()).to.deep.include({ labels: { rack: 'r2' }, profile: 'mine' });
    r = await h.inject({ method: 'PATCH', url: '/api/v1/nodes/52-54-00-0d-00-06', payload: { profile: 'no-such' } });
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_PROFILE_NOT_FOUND');
    r = await h.inject({ method: 'POST', url: '/api/v1/nodes', payload: { mac: '52:54:00:0d:00:06' } });
    expect(r.statusCode).to.equal(409);
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_NODE_EXISTS');
    expect((await h.inject({ method: 'DELETE', url: '/api/v1/nodes/52-54-00-0d-00-06' })).statusCode).to.equal(204);
    r = await h.inject({ method: 'GET', url: '/api/v1/nodes/52-54-00-0d-00-06' });
    expect(r.statusCode).to.equal(404);
    expect(r.json().code).to.equal('PB_ERR_BOOTAPI_NODE_NOT_FOUND');
  });

  it('explain: the matched group and candidates, each scriptRender tap and whether it changed the script; nothing is written', async () => {
    h.k.hooks.scriptRender.tap({ name: 'site:motd', stage: Stage.DEFAULT }, (script) => script.replace('#!ipxe\n', '#!ipxe\necho site policy was here\n'));
    h.k.hooks.scriptRender.tap({ name: 'site:noop', stage: Stage.DEFAULT + 1 }, (script) => script);
    const r = await h.inject({ method: 'GET', url: '/api/v1/explain?mac=52-54-00-0d-00-99&arch=x86_64-efi' });
    expect(r.statusCode, r.body).to.equal(200);
    const e = r.json() as { registered: boolean; state: string; selection: { by: string; group?: string; candidates: Array<{ group: string }> }; taps: Array<{ name: string; changed: boolean }>; script: string };
    expect(e.registered).to.equal(false);
    expect(e.state).to.equal('discovered');
    expect(e.taps).to.deep.include.members([
      { name: 'site:motd', stage: Stage.DEFAULT, changed: true },
      { name: 'site:noop', stage: Stage.DEFAULT + 1, changed: false },
    ]);
    expect(e.script).to.include('echo site policy was here');
    expect((await h.inject({ method: 'GET', url: '/api/v1/nodes/52-54-00-0d-00-99' })).statusCode).to.equal(404);
    // the real boot endpoint runs the same taps
    const served = await h.inject({ method: 'GET', url: '/boot/52:54:00:0d:00:98?arch=x86_64-efi', auth: false });
    expect(served.body.startsWith('#!ipxe\necho site policy was here\n')).to.equal(true);
    const p = (await h.inject({ method: 'GET', url: '/api/v1/explain?mac=52-54-00-0d-00-04' })).json() as typeof e;
    expect(p.selection.by).to.equal('group');
    expect(p.selection.group).to.equal('one-machine');
    expect(p.selection.candidates.map((c) => c.group)).to.deep.equal(['one-machine', 'web-efi', 'uefi', 'everyone']);
  });
});

describe('boot-api catalog across restarts, config ties, discovery menu', () => {
  it('profiles and groups made through the API survive a restart; config ties stop the start', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bootapi-catalog-'));
    try {
      const h1 = await startHarness({ dataDir, bootApi: { profiles: { base: { kernel: 'k' } } } });
      try {
        expect((await h1.inject({ method: 'PUT', url: '/api/v1/profiles/api-made', payload: { kernel: 'a/linux', cmdline: 'x=1' } })).statusCode).to.equal(201);
        expect((await h1.inject({ method: 'PUT', url: '/api/v1/groups/racks', payload: { profile: 'api-made', labels: { rack: 'r1' } } })).statusCode).to.equal(201);
      } finally {
        await h1.stop();
      }
      expect(fs.existsSync(path.join(dataDir, 'boot-api-catalog.json'))).to.equal(true);
      const h2 = await startHarness({ dataDir, bootApi: { profiles: { base: { kernel: 'k' } } } });
      try {
        expect((await h2.inject({ method: 'GET', url: '/api/v1/profiles/api-made' })).json()).to.include({ name: 'api-made', source: 'api', cmdline: 'x=1' });
        expect((await h2.inject({ method: 'GET', url: '/api/v1/groups/racks' })).json()).to.deep.include({ profile: 'api-made', labels: { rack: 'r1' } });
      } finally {
        await h2.stop();
      }
      let err: unknown;
      try {
        const h3 = await startHarness({ dataDir, bootApi: { profiles: { a: { kernel: 'k' }, b: { kernel: 'k' } }, groups: { one: { profile: 'a', arch: 'efi' }, two: { profile: 'b', arch: 'x86_64-efi' } } } });
        await h3.stop();
      } catch (e) {
        err = e;
      }
      expect(String((err as Error | undefined)?.message ?? err)).to.include('equally specific');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('discovery: menu gives an unknown machine a menu (retry / local / shell) that iPXE can follow', async () => {
    const h = await startHarness({ bootApi: { discovery: 'menu', menuTimeoutMs: 5000 } });
    try {
      const r = await h.inject({ method: 'GET', url: '/api/v1/boot?mac=52-54-00-0d-01-01&buildarch=x86_64&platform=efi', auth: false });
      const s = tokenizeIpxe(r.body);
      expect(s.commands.map((c) => c.argv[0])).to.include.members(['menu', 'item', 'choose', 'chain', 'shell']);
      expect(s.labels).to.include.members(['pb_menu', 'pb_retry', 'pb_local', 'pb_shell']);
      expect(r.body).to.include('choose --default pb_local --timeout 5000 pb-choice');
      expect((await h.inject({ method: 'GET', url: '/api/v1/nodes/52-54-00-0d-01-01' })).json().state).to.equal('discovered');
    } finally {
      await h.stop();
    }
  });
});
