import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { requireTools } from '@pureboot/core/testing';
import { curl } from './support/curl';
import { startHarness, TOKEN, type Harness } from './support/harness';
import { tokenizeIpxe } from './support/ipxe-tokenizer';

const exec = promisify(execFile);

/**
 * The boot API as machines and operators reach it: fastify listening on 127.0.0.1:<ephemeral port>,
 * scripts fetched with curl (as iPXE does: GET, plain text), installer callbacks posted with busybox
 * wget --post-data (what a busybox initramfs has), management calls with curl and the bearer token.
 */
describe('boot-api over a real socket: curl fetches scripts, busybox wget calls back', () => {
  let h: Harness;
  let base: string;
  const auth = ['-H', `Authorization: Bearer ${TOKEN}`];
  const json = (body: unknown) => ['-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body)];

  before(async function () {
    requireTools(this, ['curl', 'busybox']);
    h = await startHarness({
      bootApi: {
        bodyLimit: 2048,
        // scripts name the address the client used (no publicUrl), so callbacks come back to this socket
        publicUrl: undefined,
        profiles: { debian: { kernel: 'debian/{{buildarch}}/linux', initrds: ['debian/{{buildarch}}/initrd.gz'], cmdline: 'console=ttyS0 hostname={{labels.hostname}}' } },
        groups: { all: { profile: 'debian' } },
      },
    });
    expect(h.port).to.be.greaterThan(0);
    base = `http://127.0.0.1:${h.port}`;
  });
  after(async () => {
    if (h) await h.stop();
  });

  async function state(hy: string): Promise<string> {
    const r = await curl(auth, `${base}/api/v1/nodes/${hy}`);
    expect(r.status, r.body.toString()).to.equal(200);
    return (JSON.parse(r.body.toString()) as { state: string }).state;
  }

  async function script(url: string): Promise<string> {
    const r = await curl([], url);
    expect(r.status, r.body.toString()).to.equal(200);
    expect(r.headers['content-type']).to.match(/^text\/plain/);
    expect(r.headers['cache-control']).to.equal('no-store');
    return r.body.toString();
  }

  async function wgetPost(url: string, data: string): Promise<{ code: number; out: string }> {
    try {
      const { stdout } = await exec('timeout', ['15', 'busybox', 'wget', '-q', '-O', '-', '--post-data', data, url], { timeout: 20000 });
      return { code: 0, out: stdout };
    } catch (err) {
      return { code: (err as { code?: number }).code ?? 1, out: String((err as { stderr?: string }).stderr ?? '') };
    }
  }

  it('GET /boot/<mac> and /api/v1/boot?mac=: an unknown machine is registered as discovered and boots locally', async () => {
    const s1 = await script(`${base}/boot/52:54:00:0a:00:01?buildarch=x86_64&platform=efi`);
    expect(s1.startsWith('#!ipxe\n')).to.equal(true);
    const t = tokenizeIpxe(s1);
    expect(t.commands.map((c) => c.argv[0])).to.deep.equal(['echo', 'exit']);
    expect(await state('52-54-00-0a-00-01')).to.equal('discovered');
    const s2 = await script(`${base}/api/v1/boot?mac=52-54-00-0a-00-02&buildarch=i386&platform=pcbios`);
    expect(s2).to.include('52:54:00:0a:00:02 (i386-pcbios)');
    expect(await state('52-54-00-0a-00-02')).to.equal('discovered');
    // both forms name the same machine
    expect(await script(`${base}/boot/52-54-00-0a-00-01?arch=x86_64-efi`)).to.include('52:54:00:0a:00:01 (x86_64-efi)');
  });

  it('a malformed MAC is a 400 with the error code, over the wire', async () => {
    for (const url of [`${base}/boot/not-a-mac`, `${base}/api/v1/boot?mac=52:54:00:12:34`, `${base}/boot/52:54:00:12:3g`]) {
      const r = await curl([], url);
      expect(r.status, url).to.equal(400);
      expect(r.body.toString()).to.include('PB_ERR_BOOTAPI_INVALID_MAC');
    }
    // longer than any MAC: refused by the route schema before the handler
    const r = await curl([], `${base}/boot/52:54:00:12:34:56%0Ashell`);
    expect(r.status).to.equal(400);
    expect((await curl(auth, `${base}/api/v1/nodes/52-54-00-12-34-56`)).status).to.equal(404);
  });

  it('the chain script chains to the boot endpoint on the address the client used', async () => {
    const s = await script(`${base}/api/v1/ipxe/boot.ipxe`);
    expect(s).to.include(`\nset pb-base ${base}\n`);
    expect(s).to.include('\nchain --replace --autofree ${pb-base}/api/v1/boot?mac=${mac:hexhyp}&');
  });

  it('lifecycle from curl and busybox wget alone: discovered → pending → installing → installed → active → reinstall once', async () => {
    const mac = '52:54:00:0a:00:10';
    const hy = '52-54-00-0a-00-10';
    const bootUrl = `${base}/boot/${mac}?buildarch=x86_64&platform=efi`;
    expect(await script(bootUrl)).to.not.include('\nkernel ');
    expect(await state(hy)).to.equal('discovered');

    let r = await curl([...auth, '-X', 'PATCH', ...json({ labels: { hostname: 'web-10' } })], `${base}/api/v1/nodes/${hy}`);
    expect(r.status, r.body.toString()).to.equal(200);
    r = await curl([...auth, ...json({ to: 'pending', reason: 'install web-10' })], `${base}/api/v1/nodes/${hy}/transition`);
    expect(r.status, r.body.toString()).to.equal(200);

    const install = await script(bootUrl);
    expect(install).to.include(`\nkernel ${base}/api/v1/assets/debian/x86_64/linux initrd=initrd0 console=ttyS0 hostname=web-10 `);
    expect(await state(hy)).to.equal('installing');
    // a reboot mid-install boots locally: one-shot
    expect(await script(bootUrl)).to.not.include('\nkernel ');

    const cb = /pureboot\.callback=(\S+)/.exec(install)?.[1] as string;
    expect(cb.startsWith(`${base}/api/v1/nodes/${hy}/events?token=`)).to.equal(true);
    expect((await wgetPost(cb, 'event=started')).code).to.equal(0);
    const prog = await wgetPost(cb, 'event=progress&progress=50&message=partitioning');
    expect(prog.code).to.equal(0);
    expect(JSON.parse(prog.out)).to.deep.equal({ mac, state: 'installing', changed: false });
    // a forged token is refused, and changes nothing
    expect((await wgetPost(cb.replace(/token=[^&]+/, 'token=forged-forged-forged-forged'), 'event=installed')).code).to.not.equal(0);
    expect(await state(hy)).to.equal('installing');
    const done = await wgetPost(cb, 'event=installed');
    expect(done.code).to.equal(0);
    expect(JSON.parse(done.out)).to.deep.equal({ mac, state: 'installed', changed: true });

    expect(await script(bootUrl)).to.include('first local boot');
    expect(await state(hy)).to.equal('active');
    expect(await script(bootUrl)).to.not.include('\nkernel ');
    expect(await state(hy)).to.equal('active');

    r = await curl([...auth, ...json({ to: 'pending' })], `${base}/api/v1/nodes/${hy}/transition`);
    expect(r.status).to.equal(200);
    const scripts = [await script(bootUrl), await script(bootUrl), await script(bootUrl)];
    expect(scripts.filter((s) => s.includes('\nkernel ')).length).to.equal(1);

    await h.settle();
    r = await curl(auth, `${base}/api/v1/nodes/${hy}/timeline`);
    const events = (JSON.parse(r.body.toString()) as { events: Array<{ kind: string; detail: { from?: string; to?: string } }> }).events;
    expect(events.filter((e) => e.kind === 'lifecycle.transition').map((e) => `${e.detail.from}>${e.detail.to}`)).to.deep.equal([
      'null>discovered',
      'discovered>pending',
      'pending>installing',
      'installing>installed',
      'installed>active',
      'active>pending',
      'pending>installing',
    ]);
    // discovered, install, mid-install reboot, first local boot, active boot, 3 boots after the reinstall request
    expect(events.filter((e) => e.kind === 'http.script').length).to.equal(8);
    expect(events.map((e) => e.kind)).to.include.members(['callback.started', 'callback.progress', 'callback.installed']);
  });

  it('every mutating route of the OpenAPI document: 401 over the wire without a token or with a wrong one', async () => {
    const doc = JSON.parse((await curl([], `${base}/api/v1/openapi.json`)).body.toString()) as { paths: Record<string, Record<string, unknown>> };
    const mutating = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => ['post', 'put', 'patch', 'delete'].includes(m)).map((m) => [m.toUpperCase(), p] as const));
    expect(mutating.length).to.be.at.least(9);
    for (const [method, p] of mutating) {
      const url = `${base}${p.replace('{mac}', '52-54-00-0a-00-01').replace('{name}', 'debian')}`;
      for (const extra of [[], ['-H', 'Authorization: Bearer wrong-token-wrong-token']]) {
        const r = await curl(['-X', method, ...extra, ...json({})], url);
        expect(r.status, `${method} ${url} ${extra.join(' ')}: ${r.body.toString()}`).to.equal(401);
        expect(r.body.toString()).to.include('PB_ERR_BOOTAPI_UNAUTHORIZED');
      }
    }
    // nothing was changed by those requests
    expect(await state('52-54-00-0a-00-01')).to.equal('discovered');
    const p = await curl(auth, `${base}/api/v1/profiles/debian`);
    expect(p.status).to.equal(200);
  });

  it('413 for a body above bodyLimit, with the token (auth first, then the size)', async () => {
    const big = json({ kernel: 'k', cmdline: 'x'.repeat(4096) });
    let r = await curl([...auth, '-X', 'PUT', ...big], `${base}/api/v1/profiles/big`);
    expect(r.status).to.equal(413);
    r = await curl(['-X', 'PUT', ...big], `${base}/api/v1/profiles/big`);
    expect(r.status).to.equal(401);
    expect((await curl(auth, `${base}/api/v1/profiles/big`)).status).to.equal(404);
  });
});
