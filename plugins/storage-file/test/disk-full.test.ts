import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { requireRoot, requireTools } from '@pureboot/core/testing';
import { FileStore } from '@pureboot/plugin-storage-file';
import { TempDirs } from './support/temp';

const T0 = Date.UTC(2026, 0, 1);

describe('storage-file on a full disk (1 MiB tmpfs)', function () {
  this.timeout(60_000);
  const temps = new TempDirs();
  let mnt = '';
  let mounted = false;
  const open: FileStore[] = [];

  before(function () {
    requireRoot(this);
    requireTools(this, ['mount', 'umount']);
    mnt = temps.make('pb-storage-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pb-storage-test', mnt]);
    mounted = true;
  });
  after(async () => {
    for (const s of open) await s.close().catch(() => undefined);
    if (mounted) {
      try {
        execFileSync('umount', [mnt]);
      } catch {
        execFileSync('umount', ['-l', mnt]); // still busy after a failure: detach it anyway
      }
    }
    temps.cleanup();
  });

  it('fails writes cleanly with PB_ERR_STORAGE_DISK_FULL, keeps everything acknowledged, and resumes when space returns', async () => {
    const dir = path.join(mnt, 'storage');
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(128 * 1024, 1));
    const store = new FileStore({ dir, fsync: 'always' });
    open.push(store);
    await store.open();
    const { leaseStore, bootEvents } = store.services;
    const acked: number[] = [];
    const failed: number[] = [];
    const hostname = 'h'.repeat(200);
    for (let i = 0; i < 20_000 && failed.length < 5; i++) {
      try {
        const r = await leaseStore.allocate({ subnetId: 's', clientId: `c${i}`, mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, hostname, ranges: [{ start: 1, end: 100_000 }], state: 'bound', expiresAt: T0 + 1e9, now: T0 });
        expect(r.ok).to.equal(true);
        acked.push(i);
      } catch (err) {
        expect((err as { code?: string }).code, String(err)).to.equal('PB_ERR_STORAGE_DISK_FULL');
        expect((err as Error).message).to.include(store.journalFile);
        failed.push(i);
      }
    }
    expect(failed.length, 'the disk never filled up').to.equal(5);
    expect(acked.length).to.be.greaterThan(100);
    expect(store.stats.writeFailures).to.be.greaterThan(0);
    // nothing is reported stored that isn't: failed writes left no trace in memory either
    for (const i of failed) expect(await leaseStore.findByClientId('s', `c${i}`)).to.equal(undefined);
    await expectRejects(bootEvents.append({ mac: '52:54:00:ff:ff:ff', at: T0, source: 't', kind: 'k', detail: { pad: 'p'.repeat(8000) } }), 'PB_ERR_STORAGE_DISK_FULL');
    // a compaction on the full disk fails without damage
    await store.compact();
    expect(store.stats.compactionFailures).to.equal(1);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['LOCK', 'journal-0.log']);
    await store.close();

    // the journal loads afterwards with everything acknowledged and nothing else
    const again = new FileStore({ dir, fsync: 'always' });
    open.push(again);
    await again.open();
    expect(again.stats.tornTails).to.equal(0);
    const page = await again.services.leaseStore.list({ limit: 1000 });
    let all = page.items;
    let cursor = page.nextCursor;
    while (cursor) {
      const p = await again.services.leaseStore.list({ limit: 1000, cursor });
      all = all.concat(p.items);
      cursor = p.nextCursor;
    }
    expect(all.map((l) => l.clientId).sort()).to.deep.equal(acked.map((i) => `c${i}`).sort());
    expect(await again.services.bootEvents.list('52:54:00:ff:ff:ff')).to.deep.equal([]);
    // space returns: writing resumes
    fs.rmSync(filler);
    const r = await again.services.leaseStore.allocate({ subnetId: 's', clientId: 'after', mac: '52:54:00:ee:ee:ee', ranges: [{ start: 1, end: 100_000 }], state: 'bound', expiresAt: T0 + 1e9, now: T0 });
    expect(r.ok).to.equal(true);
    await again.close();
    const last = new FileStore({ dir });
    open.push(last);
    await last.open();
    expect((await last.services.leaseStore.findByClientId('s', 'after'))?.state).to.equal('bound');
    expect((await last.services.leaseStore.findByClientId('s', `c${acked[acked.length - 1]}`))?.state).to.equal('bound');
    await last.close();
  });
});

async function expectRejects(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as { code?: string }).code).to.equal(code);
    return;
  }
  throw new Error(`expected ${code}`);
}
