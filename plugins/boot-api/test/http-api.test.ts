import path from 'node:path';
import { expect } from 'chai';
import { startHarness, type Harness } from './support/harness';

interface OpenApi {
  paths: Record<string, Record<string, { security?: unknown[]; summary?: string }>>;
}

const EXTRA = path.join(__dirname, 'support', 'extra-routes-plugin.ts');

describe('boot-api HTTP: auth, limits, OpenAPI, health, metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ plugins: [EXTRA], bootApi: { bodyLimit: 4096, profiles: { p: { kernel: 'k' } } } });
  });
  after(() => h.stop());

  async function openapi(): Promise<OpenApi> {
    const r = await h.inject({ method: 'GET', url: '/api/v1/openapi.json', auth: false });
    expect(r.statusCode).to.equal(200);
    return r.json() as OpenApi;
  }

  it('every mutating route in the OpenAPI document answers 401 without a token (and with a wrong one)', async () => {
    const doc = await openapi();
    const mutating: Array<[string, string]> = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) if (['post', 'put', 'patch', 'delete'].includes(method)) mutating.push([method.toUpperCase(), p]);
    }
    // The boot-api's own and the extra plugin's routes are all there.
    const names = mutating.map(([m, p]) => `${m} ${p}`);
    expect(names).to.include.members([
      'POST /api/v1/nodes',
      'PATCH /api/v1/nodes/{mac}',
      'DELETE /api/v1/nodes/{mac}',
      'POST /api/v1/nodes/{mac}/transition',
      'POST /api/v1/nodes/{mac}/events',
      'PUT /api/v1/profiles/{name}',
      'DELETE /api/v1/profiles/{name}',
      'PUT /api/v1/groups/{name}',
      'DELETE /api/v1/groups/{name}',
      'POST /api/v1/extra/reset',
    ]);
    for (const [method, p] of mutating) {
      const url = p.replace('{mac}', '52-54-00-12-34-56').replace('{name}', 'p').replace('{*}', 'x');
      for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }]) {
        const r = await h.app.inject({ method: method as 'POST', url, headers, payload: {} });
        expect(r.statusCode, `${method} ${url} ${JSON.stringify(headers)}: ${r.body}`).to.equal(401);
        expect(r.headers['www-authenticate']).to.match(/^Bearer/);
      }
    }
    // and with the token, the same requests get past authentication
    const ok = await h.inject({ method: 'POST', url: '/api/v1/extra/reset', payload: {} });
    expect(ok.statusCode).to.equal(200);
  });

  it('management reads need the token too; machine-facing and operations routes do not', async () => {
    expect((await h.inject({ method: 'GET', url: '/api/v1/nodes', auth: false })).statusCode).to.equal(401);
    expect((await h.inject({ method: 'GET', url: '/api/v1/explain?mac=52-54-00-12-34-56', auth: false })).statusCode).to.equal(401);
    expect((await h.inject({ method: 'GET', url: '/api/v1/boot?mac=52-54-00-12-34-56', auth: false })).statusCode).to.equal(200);
    expect((await h.inject({ method: 'GET', url: '/api/v1/ipxe/boot.ipxe', auth: false })).statusCode).to.equal(200);
    expect((await h.inject({ method: 'GET', url: '/health', auth: false })).statusCode).to.equal(200);
    expect((await h.inject({ method: 'GET', url: '/metrics', auth: false })).statusCode).to.equal(200);
    expect((await h.inject({ method: 'GET', url: '/docs', auth: false })).statusCode).to.be.oneOf([200, 302]);
  });

  it('413 for a body above bodyLimit', async () => {
    const r = await h.inject({ method: 'PUT', url: '/api/v1/profiles/big', payload: { kernel: 'k', cmdline: 'x'.repeat(5000) } });
    expect(r.statusCode).to.equal(413);
  });

  it('400 for a body that does not match the route schema', async () => {
    const r = await h.inject({ method: 'POST', url: '/api/v1/nodes/52-54-00-12-34-56/transition', payload: { to: 'flying' } });
    expect(r.statusCode).to.equal(400);
  });

  it('boot query variables: stored ones are limited to 128 characters (400), fixed-form ones are ignored unless well-formed', async () => {
    const mac = '02-00-00-cc-00-01';
    expect((await h.inject({ method: 'GET', url: `/boot/${mac}?serial=${'s'.repeat(129)}`, auth: false })).statusCode).to.equal(400);
    expect((await h.inject({ method: 'GET', url: `/boot/${mac}?hostname=${'h'.repeat(129)}`, auth: false })).statusCode).to.equal(400);
    const long = 'x'.repeat(4000);
    const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${mac}&arch=${long}&buildarch=${long}&platform=${long}&uuid=${long}&ip=${long}&serial=${'s'.repeat(128)}`, auth: false });
    expect(r.statusCode).to.equal(200);
    expect(r.body).to.include(`(unknown), state discovered`);
    const node = (await h.inject({ method: 'GET', url: `/api/v1/nodes/${mac}` })).json() as { arch?: string; attributes: Record<string, unknown> };
    expect(node.arch).to.equal(undefined);
    expect(node.attributes).to.deep.equal({ ip: '127.0.0.1', serial: 's'.repeat(128) });
  });

  it('/health lists the plugins and storage; /metrics has boots by state and arch and script latency', async () => {
    const health = (await h.inject({ method: 'GET', url: '/health' })).json() as { status: string; plugins: Array<{ name: string; state: string }>; storage: { status: string } };
    expect(health.status).to.equal('ok');
    expect(health.plugins.map((p) => p.name)).to.include('boot-api');
    expect(health.storage.status).to.equal('ok');
    await h.inject({ method: 'GET', url: '/api/v1/boot?mac=52-54-00-aa-bb-cc&buildarch=x86_64&platform=efi', auth: false });
    const metrics = (await h.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).to.match(/pureboot_boot_scripts_total\{state="discovered",arch="x86_64-efi",kind="local"\} [1-9]/);
    expect(metrics).to.include('pureboot_boot_script_duration_seconds_bucket');
    expect(metrics).to.match(/pureboot_node_transitions_total\{from="none",to="discovered"\} [1-9]/);
  });

  it('boot endpoints can be limited to client networks (403 outside)', async () => {
    const h2 = await startHarness({ bootApi: { allowedClientNetworks: ['198.18.0.0/15'] } });
    try {
      const r = await h2.inject({ method: 'GET', url: '/api/v1/boot?mac=52-54-00-12-34-56', auth: false });
      expect(r.statusCode).to.equal(403);
      expect(r.json().code).to.equal('PB_ERR_BOOTAPI_FORBIDDEN_NETWORK');
      const inside = await h2.app.inject({ method: 'GET', url: '/api/v1/boot?mac=52-54-00-12-34-56', remoteAddress: '198.18.3.4' });
      expect(inside.statusCode).to.equal(200);
      // management routes are not boot endpoints
      expect((await h2.inject({ method: 'GET', url: '/api/v1/nodes' })).statusCode).to.equal(200);
    } finally {
      await h2.stop();
    }
  });

  it('generates a token at first start, keeps it in the data dir, and prints it once', async () => {
    const fs = await import('node:fs');
    const h3 = await startHarness({ bootApi: { token: undefined } });
    try {
      const token = fs.readFileSync(path.join(h3.dataDir, 'boot-api.token'), 'utf8').trim();
      expect(token).to.match(/^[A-Za-z0-9_-]{40,}$/);
      expect((fs.statSync(path.join(h3.dataDir, 'boot-api.token')).mode & 0o777).toString(8)).to.equal('600');
      const r = await h3.app.inject({ method: 'GET', url: '/api/v1/nodes', headers: { authorization: `Bearer ${token}` } });
      expect(r.statusCode).to.equal(200);
    } finally {
      await h3.stop();
    }
  });
});
