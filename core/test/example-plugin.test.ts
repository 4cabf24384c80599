import path from 'node:path';
import { expect } from 'chai';
import { Pureboot, type PacketReceiveContext } from '@pureboot/core';
import { captureLogger } from './support/log-capture';
import { TempDeployment } from './support/temp-plugins';

const EXAMPLE = path.resolve(__dirname, '..', '..', 'config', 'examples', 'plugins', 'csv-allowlist.js');

describe('docs/writing-a-plugin.md example: CSV allowlist site policy', () => {
  let d: TempDeployment;
  beforeEach(() => (d = new TempDeployment()));
  afterEach(() => d.cleanup());

  it('drops machines that are not in the CSV, and lets listed ones through', async () => {
    d.write('machines.csv', 'mac,name\n52-54-00-12-34-56,rack1-node1\naa:bb:cc:dd:ee:ff,rack1-node2\n');
    const k = await Pureboot.create({ config: { plugins: [EXAMPLE], 'csv-allowlist': { file: 'machines.csv' } }, configDir: d.dir, logger: captureLogger().logger });
    await k.start();
    const pkt = (mac: string): PacketReceiveContext => ({ protocol: 'dhcp', messageType: 'DISCOVER', remote: { address: '0.0.0.0', port: 68 }, mac, packet: {} });
    expect(await k.hooks.packetReceive.promise(pkt('52:54:00:12:34:56'))).to.equal(undefined);
    expect(await k.hooks.packetReceive.promise(pkt('aa:bb:cc:dd:ee:ff'))).to.equal(undefined);
    expect(await k.hooks.packetReceive.promise(pkt('02:00:00:00:00:01'))).to.deep.equal({ drop: true, reason: '02:00:00:00:00:01 is not in machines.csv' });
    await k.stop();
  });

  it('is about 30 lines', async () => {
    const lines = (await import('node:fs')).readFileSync(EXAMPLE, 'utf8').trim().split('\n').length;
    expect(lines).to.be.within(20, 40);
  });
});
