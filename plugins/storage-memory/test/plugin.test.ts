import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';

describe('storage-memory plugin', () => {
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-storage-memory-'));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('provides leaseStore, nodeStore and bootEvents through the kernel, with retention options', async () => {
    const k = await Pureboot.create({
      config: { plugins: ['storage-memory'], server: { dataDir, logLevel: 'silent' }, 'storage-memory': { bootEventRetention: 2 } },
      configDir: dataDir,
      logger: pino({ level: 'silent' }),
    });
    await k.start();
    try {
      const { leaseStore, nodeStore, bootEvents } = k.services;
      const r = await leaseStore.allocate({ subnetId: 's', clientId: '01aa', mac: 'aa:bb:cc:dd:ee:ff', ranges: [{ start: 10, end: 20 }], state: 'offered', expiresAt: 2, now: 1 });
      expect(r.ok).to.equal(true);
      expect((await nodeStore.create({ mac: 'aa:bb:cc:dd:ee:ff', state: 'discovered', now: 1 })).ok).to.equal(true);
      for (let i = 0; i < 3; i++) await bootEvents.append({ mac: 'aa:bb:cc:dd:ee:ff', at: i, source: 't', kind: `k${i}`, detail: {} });
      expect((await bootEvents.list('aa:bb:cc:dd:ee:ff')).map((e) => e.kind)).to.deep.equal(['k1', 'k2']);
    } finally {
      await k.stop('test');
    }
  });

  it('rejects unknown options', async () => {
    let err: unknown;
    try {
      await Pureboot.create({ config: { plugins: ['storage-memory'], server: { dataDir, logLevel: 'silent' }, 'storage-memory': { bogus: 1 } }, configDir: dataDir, logger: pino({ level: 'silent' }) });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).to.equal('PB_ERR_CONFIG_INVALID');
  });
});
