import path from 'node:path';
import { expect } from 'chai';
import { runCase, type E2eCase } from './harness/case';
import { findKernel } from './harness/env';
import { buildInitramfs, INIT_MARKERS } from './harness/initramfs';
import { CASE_TIMEOUT_MS, e2eHooks, reportDuration } from './harness/suite';
import type { TimelineEvent } from './harness/timeline';

const MAC = '52:54:00:64:01:05';
const PROFILE = 'e2e-linux';

/** The start of what the boot API's local-boot script echoes for a machine in `state` (iPXE wraps lines at 80 columns). */
const localBoot = (state: string) => new RegExp(`PureBoot: ${MAC} is ${state}\\b`);

function transitions(c: E2eCase): string[] {
  return c.timeline.filter('lifecycle.transition').map((e) => `${String(e.detail.from ?? 'new')}→${String(e.detail.to)}`);
}

/**
 * The machine lifecycle with a real Linux: a site DHCP server (dnsmasq) hands iPXE PureBoot's chain
 * URL; the machine boots unknown (discovered, local boot), gets a profile through the API (pending),
 * boots Debian's kernel and a busybox initramfs over HTTP (installing) whose init calls the installer
 * callback (installed) and powers off; the next boot gets the local-boot script (active).
 */
describe('e2e: lifecycle (discovered → pending → installing → installed → active, real kernel)', function () {
  this.timeout(CASE_TIMEOUT_MS);
  e2eHooks();

  it('installs through the callback of a real initramfs and boots locally afterwards', async function () {
    const t0 = Date.now();
    const kernel = findKernel();
    if (!kernel) throw new Error('no kernel in /boot (apt-get install -y linux-image-amd64)');
    let initrdSize = 0;
    await runCase(
      {
        name: 'lifecycle',
        firmware: 'bios',
        mode: 'http-only',
        mac: MAC,
        // The embedded default storage: the machine record and timeline go through its journal.
        storage: process.env.PUREBOOT_E2E_STORAGE || 'storage-file',
        profiles: {
          [PROFILE]: { description: 'e2e: Debian kernel + busybox initramfs that calls back', kernel: 'e2e/vmlinuz', initrds: ['e2e/initramfs.gz'], cmdline: 'console=ttyS0,115200n8 panic=-1 quiet' },
        },
        prepare: async (c) => {
          const initrd = await buildInitramfs(path.join(c.dir, 'initramfs.gz'));
          initrdSize = initrd.size;
          return { 'e2e/vmlinuz': kernel.vmlinuz, 'e2e/initramfs.gz': initrd.file };
        },
      },
      async (c) => {
        // 1. Unknown machine: discovered, local boot.
        const first = c.boot('discover');
        await c.waitForSerial(first, localBoot('discovered'), 'the discovered local-boot script', 90000);
        await first.stop();
        expect((await c.node()).state).to.equal('discovered');

        // 2. Assign a profile and ask for an install.
        await c.pureboot.api('PATCH', `/api/v1/nodes/${MAC}`, { profile: PROFILE });
        const pending = await c.pureboot.api<{ state: string }>('POST', `/api/v1/nodes/${MAC}/transition`, { to: 'pending', reason: 'e2e: install' });
        expect(pending.state).to.equal('pending');

        // 3. Install boot: kernel + initramfs over HTTP, the init script calls back and powers off.
        const install = c.boot('install');
        await c.waitForSerial(install, new RegExp(`PureBoot: installing profile ${PROFILE} on ${MAC}`), 'the install script', 90000);
        await c.waitForSerial(install, new RegExp(INIT_MARKERS.started), 'the initramfs /init', 90000);
        await c.waitForSerial(install, new RegExp(`${INIT_MARKERS.callback}|${INIT_MARKERS.callbackFailed}`), 'the installer callback', 60000);
        expect(install.serial()).to.not.contain(INIT_MARKERS.callbackFailed);
        await install.waitForExit(30000).catch((err: Error) => {
          throw c.failure(`the installer powered off too slowly: ${err.message}`, install);
        });
        expect((await c.node()).state).to.equal('installed');

        // 4. Next boot: local boot, installed → active.
        const local = c.boot('local');
        await c.waitForSerial(local, localBoot('installed'), 'the local-boot script after the install', 90000);
        await c.waitForEvent('installed → active', (e) => e.kind === 'lifecycle.transition' && e.detail.to === 'active');
        await local.stop();

        const node = await c.node();
        expect(node.state).to.equal('active');
        expect(node.profile).to.equal(PROFILE);
        expect(node.history.map((h) => h.to)).to.deep.equal(['discovered', 'pending', 'installing', 'installed', 'active']);
        expect(transitions(c)).to.deep.equal(['new→discovered', 'discovered→pending', 'pending→installing', 'installing→installed', 'installed→active']);

        const scripts = c.timeline.filter('http.script');
        expect(scripts.map((e) => e.detail.state)).to.deep.equal(['discovered', 'pending', 'installed']);
        expect(scripts[1].detail.kind).to.equal('install');
        const asset = (p: string): TimelineEvent | undefined => c.timeline.find('http.asset', (e) => e.detail.path === p && e.detail.status === 200);
        expect(asset('e2e/vmlinuz')?.detail.bytes, 'kernel bytes served').to.equal(c.staticSizes['e2e/vmlinuz']);
        expect(asset('e2e/initramfs.gz')?.detail.bytes, 'initramfs bytes served').to.equal(initrdSize);
        expect(c.timeline.find('callback.installed'), 'callback.installed in the timeline').to.not.equal(undefined);
      },
    );
    reportDuration('lifecycle', t0);
  });
});
