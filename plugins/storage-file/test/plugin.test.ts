import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';
import { TempDirs } from './support/temp';

const T0 = Date.UTC(2026, 0, 1);

function create(dataDir: string, extra: Record<string, unknown> = {}) {
  return Pureboot.create({
    config: { plugins: ['storage-file'], server: { dataDir, logLevel: 'silent' }, ...extra },
    configDir: dataDir,
    logger: pino({ level: 'silent' }),
  });
}

describe('storage-file plugin', () => {
  const temps = new TempDirs();
  after(() => temps.cleanup());

  it('provides the stores from <dataDir>/storage, keeps data across restarts and exports metrics', async () => {
    const dataDir = temps.make();
    const a = await create(dataDir, { 'storage-file': { fsync: 'always' } });
    await a.start();
    try {
      const r = await a.services.leaseStore.allocate({ subnetId: 's', clientId: '01aa', mac: 'aa:bb:cc:dd:ee:ff', ranges: [{ start: 10, end: 20 }], state: 'bound', expiresAt: T0 + 1e6, now: T0 });
      expect(r.ok).to.equal(true);
      await a.services.nodeStore.create({ mac: 'aa:bb:cc:dd:ee:ff', state: 'discovered', now: T0 });
      await a.services.bootEvents.append({ mac: 'aa:bb:cc:dd:ee:ff', at: T0, source: 'dhcp', kind: 'dhcp.ack', detail: {} });
      const text = await a.services.metrics.metrics();
      expect(text).to.match(/pureboot_storage_file_records_written_total 3/);
      expect(text).to.match(/pureboot_storage_file_fsyncs_total [1-9]/);
    } finally {
      await a.stop('test');
    }
    expect(fs.readdirSync(path.join(dataDir, 'storage'))).to.include('journal-0.log').and.not.include('LOCK');

    const b = await create(dataDir);
    await b.start();
    try {
      expect((await b.services.leaseStore.findByClientId('s', '01aa'))?.address).to.equal(10);
      expect((await b.services.nodeStore.get('aa:bb:cc:dd:ee:ff'))?.state).to.equal('discovered');
      expect(await b.services.bootEvents.list('aa:bb:cc:dd:ee:ff')).to.have.length(1);
    } finally {
      await b.stop('test');
    }
  });

  it('a second PureBoot on the same data folder fails to start with PB_ERR_STORAGE_LOCKED', async () => {
    const dataDir = temps.make();
    const a = await create(dataDir);
    await a.start();
    try {
      const b = await create(dataDir);
      let err: (Error & { code?: string }) | undefined;
      try {
        await b.start();
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code).to.equal('PB_ERR_STORAGE_LOCKED');
      expect(err?.message).to.include(path.join(dataDir, 'storage', 'LOCK'));
    } finally {
      await a.stop('test');
    }
  });

  it('validates its options', async () => {
    let err: (Error & { code?: string }) | undefined;
    try {
      await create(temps.make(), { 'storage-file': { fsync: 'sometimes' } });
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).to.equal('PB_ERR_CONFIG_INVALID');
  });
});
