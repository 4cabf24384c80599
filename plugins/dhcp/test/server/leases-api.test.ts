import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { ipToInt, Pureboot, type CommandContext, type LeaseEvent } from '@pureboot/core';
import { commands } from '../../src/cli';

const TOKEN = 'dhcp-test-token-0123456789';

describe('dhcp lease routes on the boot API and `pureboot leases …`', () => {
  let k: Pureboot;
  let dir: string;
  let url: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-dhcp-api-'));
    k = await Pureboot.create({
      config: {
        plugins: ['storage-memory', 'dhcp', 'boot-api'],
        server: { dataDir: dir, logLevel: 'silent' },
        'boot-api': { address: '127.0.0.1', port: 0, token: TOKEN, requestLogs: false },
        dhcp: { listen: [], subnets: [] },
      },
      configDir: dir,
      logger: pino({ level: 'silent' }),
    });
    await k.start();
    const addr = k.services.http.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const now = Date.now();
    await k.services.leaseStore.commit({ subnetId: 'lab-a', address: ipToInt('198.18.1.120'), clientId: '01020000000101', mac: '02:00:00:00:01:01', hostname: 'n1', expiresAt: now + 600_000, now });
    await k.services.leaseStore.commit({ subnetId: 'lab-a', address: ipToInt('198.18.1.121'), clientId: '01020000000102', mac: '02:00:00:00:01:02', expiresAt: now + 600_000, now });
  });
  after(async () => {
    await k?.stop('test done');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function ctx(args: string[], flags: Record<string, unknown> = {}): { c: CommandContext; out: string[] } {
    const out: string[] = [];
    return { out, c: { args, flags: { url, token: TOKEN, ...flags }, config: k.config, options: {}, print: (l) => out.push(l) } };
  }
  const cmd = (name: string) => commands.find((c) => c.name === name)!;

  it('GET /api/v1/leases lists leases; GET /api/v1/leases/:key finds by address or MAC', async () => {
    const list = await k.services.http.inject({ method: 'GET', url: '/api/v1/leases?state=bound' });
    expect(list.statusCode).to.equal(200);
    expect(list.json().items.map((l: { address: string }) => l.address)).to.have.members(['198.18.1.120', '198.18.1.121']);
    const one = await k.services.http.inject({ method: 'GET', url: '/api/v1/leases/02-00-00-00-01-01' });
    expect(one.json().items[0]).to.include({ address: '198.18.1.120', hostname: 'n1', state: 'bound' });
    expect((await k.services.http.inject({ method: 'GET', url: '/api/v1/leases/198.18.1.99' })).statusCode).to.equal(404);
    expect((await k.services.http.inject({ method: 'POST', url: '/api/v1/leases/198.18.1.120/release' })).statusCode).to.equal(401);
  });

  it('leases list / show / release through the real HTTP server', async () => {
    const events: LeaseEvent[] = [];
    k.hooks.leaseCommitted.tap('t', (e) => void events.push(e));
    const l = ctx([]);
    await cmd('leases list').run(l.c);
    expect(l.out[0]).to.match(/^ADDRESS\s+MAC\s+STATE/);
    expect(l.out.join('\n')).to.include('198.18.1.121');
    const s = ctx(['198.18.1.120'], { json: true });
    await cmd('leases show').run(s.c);
    expect(JSON.parse(s.out.join('\n'))[0]).to.include({ mac: '02:00:00:00:01:01' });
    const r = ctx(['198.18.1.121']);
    await cmd('leases release').run(r.c);
    expect(r.out.join('\n')).to.include('released');
    expect(await k.services.leaseStore.findByAddress(ipToInt('198.18.1.121'))).to.include({ state: 'released' });
    expect(events.map((e) => e.kind)).to.deep.equal(['released']);
    const bad = ctx(['198.18.1.121']);
    let err: Error | undefined;
    await cmd('leases release').run(bad.c).catch((e: Error) => (err = e));
    expect((err as { code?: string } | undefined)?.code).to.equal('PB_ERR_DHCP_CLI');
  });
});
