import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { NODE_STATES } from '@pureboot/core';
import { startHarness, type Harness } from './support/harness';
import { tokenizeIpxe } from './support/ipxe-tokenizer';

/**
 * Table-driven: for every lifecycle state × architecture × profile kind, the script a machine gets is
 * exactly the fixture file test/fixtures/scripts/<state>.<arch>.<kind>.ipxe.
 * Regenerate after an intended change with UPDATE_FIXTURES=1 and review the diff.
 */
const FIXTURES = path.join(__dirname, 'fixtures', 'scripts');
const ARCHES = ['i386-pcbios', 'x86_64-efi', 'arm64-efi'];
const KINDS = ['kernel', 'script'] as const;

export const fixtureProfiles = {
  'debian-12': {
    description: 'Debian 12 netinst with preseed',
    kernel: 'debian-12/{{buildarch}}/linux',
    initrds: ['debian-12/{{buildarch}}/initrd.gz', 'https://mirror.example.net/firmware/{{buildarch}}/firmware.cpio.gz'],
    cmdline: 'console=ttyS0,115200n8 auto=true priority=critical hostname={{labels.hostname}} url={{base_url}}/api/v1/assets/preseed/{{mac_hyphen}}.cfg ip=${ip}',
  },
  'custom-script': {
    script: '#!ipxe\n# custom installer for {{mac}}\necho Installing {{labels.hostname}} ({{arch}})\nchain --autofree {{asset_url}}/custom/{{buildarch}}.ipxe?callback={{callback_url | uri}} || goto failed\n:failed\necho install chain failed\nexit 1\n',
  },
};

const groups = {
  'kind-kernel': { profile: 'debian-12', labels: { kind: 'kernel' } },
  'kind-script': { profile: 'custom-script', labels: { kind: 'script' } },
};

describe('boot-api scripts: state × architecture × profile kind (fixture files)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ bootApi: { profiles: fixtureProfiles, groups } });
  });
  after(() => h.stop());

  let i = 0;
  for (const state of NODE_STATES) {
    for (const arch of ARCHES) {
      for (const kind of KINDS) {
        const n = ++i;
        it(`${state} / ${arch} / ${kind}`, async () => {
          const mac = `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`;
          const res = await h.k.services.nodeStore.create({ mac, state, labels: { kind, hostname: 'web-01' }, now: h.clock.now() });
          expect(res.ok).to.equal(true);
          const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${mac.replace(/:/g, '-')}&arch=${arch}`, auth: false });
          expect(r.statusCode, r.body).to.equal(200);
          expect(r.headers['content-type']).to.match(/^text\/plain/);
          const file = path.join(FIXTURES, `${state}.${arch}.${kind}.ipxe`);
          if (process.env.UPDATE_FIXTURES) {
            fs.mkdirSync(FIXTURES, { recursive: true });
            fs.writeFileSync(file, r.body);
          }
          expect(r.body).to.equal(fs.readFileSync(file, 'utf8'));
          const parsed = tokenizeIpxe(r.body);
          expect(parsed.signature).to.equal('#!ipxe');
          for (const c of parsed.commands.filter((x) => x.argv[0] === 'goto' && !x.argv[1].includes('${'))) expect(parsed.labels, `goto ${c.argv[1]}`).to.include(c.argv[1]);
        });
      }
    }
  }

  it('one machine moved through every state and architecture gets each fixture’s script, twice in a row (local scripts are kept per MAC)', async () => {
    const mac = '52:54:00:00:ff:01';
    const fixtureFor = (state: string, arch: string): string => {
      const n = NODE_STATES.indexOf(state as (typeof NODE_STATES)[number]) * ARCHES.length * KINDS.length + ARCHES.indexOf(arch) * KINDS.length + 1;
      const theirs = `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`;
      return fs.readFileSync(path.join(FIXTURES, `${state}.${arch}.kernel.ipxe`), 'utf8').split(theirs).join(mac).split(theirs.replace(/:/g, '-')).join(mac.replace(/:/g, '-'));
    };
    const boot = async (arch: string): Promise<string> => {
      const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${mac}&arch=${arch}`, auth: false });
      expect(r.statusCode, r.body).to.equal(200);
      return r.body;
    };
    let checked = 0;
    for (const arch of [...ARCHES, ...ARCHES.slice().reverse()]) {
      for (const state of ['active', 'installing', 'failed', 'retired', 'discovered', 'installed'] as const) {
        await h.k.services.nodeStore.delete(mac);
        expect((await h.k.services.nodeStore.create({ mac, state, arch, labels: { kind: 'kernel', hostname: 'web-01' }, now: h.clock.now() })).ok).to.equal(true);
        expect(await boot(arch), `${state} / ${arch}`).to.equal(fixtureFor(state, arch));
        // installed → active on its first local boot: the next script is the active one.
        expect(await boot(arch), `${state} / ${arch}, again`).to.equal(fixtureFor(state === 'installed' ? 'active' : state, arch));
        checked += 2;
      }
    }
    expect(checked).to.equal(72);
  });
});
