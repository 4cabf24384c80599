import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { ipToInt, Pureboot, type PurebootError } from '@pureboot/core';
import { dropSchema, PG_URL, randomSchema, requirePostgres } from './support/pg';
import { unusedPort } from './support/tcp-proxy';

const PLUGIN = '@pureboot/plugin-storage-postgres';

async function failure(p: Promise<unknown>): Promise<PurebootError> {
  try {
    await p;
  } catch (err) {
    return err as PurebootError;
  }
  throw new Error('expected a failure');
}

describe('storage-postgres: as a plugin in the kernel', function () {
  this.timeout(20_000);
  const schema = randomSchema('pb_plug');
  let dir: string;
  before(async function () {
    await requirePostgres(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-pg-plugin-'));
  });
  after(async () => {
    await dropSchema(schema);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const create = (options: Record<string, unknown>) =>
    Pureboot.create({ config: { plugins: [PLUGIN], server: { dataDir: path.join(dir, 'var') }, 'storage-postgres': options }, configDir: dir, logger: pino({ level: 'silent' }) });

  it('provides leaseStore, nodeStore and bootEvents; migrates at start; closes the pool at stop', async () => {
    const k = await create({ connectionString: PG_URL, schema, poolSize: 2 });
    expect(k.plugins.find((p) => p.name === PLUGIN)?.provides.sort()).to.deep.equal(['bootEvents', 'leaseStore', 'nodeStore']);
    await k.start();
    try {
      const r = await k.services.leaseStore.allocate({ subnetId: 's', clientId: '01aa', mac: 'aa:00:00:00:00:01', ranges: [{ start: ipToInt('198.18.60.1'), end: ipToInt('198.18.60.9') }], state: 'offered', expiresAt: 2e12, now: 1e12 });
      expect(r.ok).to.equal(true);
      expect(await k.services.bootEvents.append({ mac: 'aa:00:00:00:00:01', at: 1, source: 't', kind: 'dhcp.discover', detail: {} })).to.have.property('seq');
      const metrics = await k.services.metrics.metrics();
      expect(metrics).to.match(/pureboot_storage_postgres_up 1/);
    } finally {
      await k.stop('test');
    }
    expect((await failure(k.services.nodeStore.get('aa:00:00:00:00:01'))).code).to.equal('PB_ERR_STORAGE_PG_CLOSED');
  });

  it('bad options are configuration errors', async () => {
    const bad = await failure(create({ schema: 'Bad-Name' }));
    expect(bad.code).to.equal('PB_ERR_CONFIG_INVALID');
    expect(bad.message).to.include('schema');
    expect((await failure(create({ connectionString: PG_URL, host: 'x' }))).code).to.equal('PB_ERR_STORAGE_PG_OPTIONS');
  });

  it('an unreachable database fails the start with PB_ERR_STORAGE_PG_CONNECT', async () => {
    const port = await unusedPort();
    const k = await create({ host: '127.0.0.1', port, user: 'postgres', database: 'test', schema });
    const err = await failure(k.start());
    expect(err.code).to.equal('PB_ERR_STORAGE_PG_CONNECT');
    expect(err.message).to.include(`127.0.0.1:${port}`);
  });
});
