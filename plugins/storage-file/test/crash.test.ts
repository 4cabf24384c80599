import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startProcess, tsNodeArgs, type RunningProcess } from '@pureboot/core/testing';
import { Registry } from 'prom-client';
import { FileStore, JOURNAL_MAGIC, scanRecords } from '@pureboot/plugin-storage-file';
import { captureLogger } from './support/log-capture';
import { TempDirs } from './support/temp';

const CHILD = path.join(__dirname, 'support', 'writer-child.ts');

function child(args: string[]): RunningProcess {
  return startProcess([process.execPath, ...tsNodeArgs(), CHILD, ...args]);
}

function acks(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of out.split('\n')) {
    const r = /^ACK (\d+) (\d+)$/.exec(line);
    if (r) m.set(Number(r[1]), Number(r[2]));
  }
  return m;
}

describe('storage-file crash safety (real processes, SIGKILL)', function () {
  this.timeout(300_000);
  const temps = new TempDirs();
  const running: RunningProcess[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL', 1000);
    temps.cleanup();
  });

  /** One storage folder, `kills` child processes in a row, each SIGKILLed while writing; checked after every kill. */
  async function lane(kills: number): Promise<{ acked: number; torn: number }> {
    const dir = temps.make();
    const acked = new Map<number, number>();
    let start = 0;
    let tornSeen = 0;
    for (let round = 0; round < kills; round++) {
      const p = child([dir, 'write', String(start)]);
      running.push(p);
      await p.waitFor(/READY/, 20_000);
      await p.waitFor(/ACK/, 20_000);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
      p.child.kill('SIGKILL');
      const exit = await p.exited;
      expect(exit.signal, p.stderr()).to.equal('SIGKILL');
      const got = acks(p.stdout());
      for (const [n, a] of got) acked.set(n, a);
      start = Math.max(start, ...got.keys()) + 100;

      const store = new FileStore({ dir });
      await store.open();
      tornSeen += store.stats.tornTails;
      for (const [n, address] of got) {
        const l = await store.services.leaseStore.findByClientId('crash', `c${n}`);
        expect(l, `round ${round}: acknowledged lease c${n} is missing`).to.not.equal(undefined);
        expect(l?.address).to.equal(address);
        expect(l?.state).to.equal('bound');
      }
      await store.close();
    }
    // whole-store check: every acknowledged lease of every round, one holder per address
    const store = new FileStore({ dir });
    await store.open();
    const holders = new Map<number, string>();
    const byClient = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await store.services.leaseStore.list({ subnetId: 'crash', limit: 1000, cursor });
      for (const l of page.items) {
        expect(holders.has(l.address), `address ${l.address} listed twice`).to.equal(false);
        holders.set(l.address, l.clientId);
        if (l.state === 'bound') {
          expect(byClient.has(l.clientId), `client ${l.clientId} holds two addresses`).to.equal(false);
          byClient.set(l.clientId, l.address);
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
    for (const [n, address] of acked) expect(byClient.get(`c${n}`), `c${n}`).to.equal(address);
    await store.close();
    return { acked: acked.size, torn: tornSeen };
  }

  it('after 20 SIGKILLs at random moments every acknowledged lease is present and no address has two holders', async () => {
    // two folders side by side, 10 kills each (the child's start-up dominates; this halves the wall time)
    const lanes = await Promise.all([lane(10), lane(10)]);
    const total = lanes.reduce((a, l) => a + l.acked, 0);
    expect(total).to.be.greaterThan(20);
    // eslint-disable-next-line no-console
    console.log(`      ${total} acknowledged leases over 20 kills; torn tails cut at reopen: ${lanes.reduce((a, l) => a + l.torn, 0)}`);
  });

  it('a SIGKILL inside a large write leaves a torn last record: detected, cut off, logged and counted; every acknowledged write is kept', async () => {
    // Whether a kill lands inside a write(2) is chance: watch the journal grow and kill the moment two
    // looks a few dozen microseconds apart see different sizes (a multi-MiB write is under way).
    let torn = 0;
    let rounds = 0;
    for (; rounds < 80 && torn === 0; rounds++) {
      const dir = temps.make();
      const p = child([dir, 'big', '0', 'never', String(1 << 30)]);
      running.push(p);
      await p.waitFor(/ACK 3 /, 20_000);
      const file = path.join(dir, 'journal-0.log');
      const until = Date.now() + 200 + Math.floor(Math.random() * 200);
      let last = fs.statSync(file).size;
      while (Date.now() < until) {
        const now = fs.statSync(file).size;
        if (now !== last) break;
        last = now;
      }
      p.child.kill('SIGKILL');
      await p.exited;
      const got = acks(p.stdout());
      const journal = path.join(dir, 'journal-0.log');
      const before = fs.statSync(journal).size;
      const scan = scanRecords(fs.readFileSync(journal), JOURNAL_MAGIC);
      expect(scan.ok, 'a killed writer never leaves damage before the last record').to.equal(true);
      const { logger, lines } = captureLogger();
      const metrics = new Registry();
      const store = new FileStore({ dir, logger, metrics, bootEventRetention: 1, compactBytes: 1 << 30 });
      await store.open();
      if (scan.ok && scan.torn) {
        torn++;
        expect(store.stats.tornTails).to.equal(1);
        expect(store.stats.tornBytes).to.equal(before - scan.validEnd);
        expect(fs.statSync(journal).size, 'cut back to the last complete record').to.equal(scan.validEnd);
        expect(lines.find((l) => l.code === 'PB_ERR_STORAGE_TORN_TAIL'), 'logged').to.include({ file: journal, offset: scan.validEnd });
        expect(await metrics.getSingleMetricAsString('pureboot_storage_file_torn_records_total')).to.match(/ 1$/m);
      } else {
        expect(store.stats.tornTails).to.equal(0);
      }
      for (const n of got.keys()) {
        const mac = `52:54:02:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
        expect(await store.services.bootEvents.list(mac), `acknowledged event ${n}`).to.have.length(1);
      }
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(torn, `no kill out of ${rounds} landed inside a write`).to.equal(1);
    // eslint-disable-next-line no-console
    console.log(`      torn record after ${rounds} kill(s)`);
  });

  it('a write cut short by the file-size limit (EFBIG mid-record) is rolled back: the journal ends on a record boundary and every ACK is kept', async () => {
    const dir = temps.make();
    // 256 blocks of 512 bytes: the journal hits the limit in the middle of some record
    const argv = [process.execPath, ...tsNodeArgs(), CHILD, dir, 'write', '0', 'group', String(1 << 30)];
    const p = startProcess(['sh', '-c', 'ulimit -f 256 && exec "$@"', 'sh', ...argv]);
    running.push(p);
    const exit = await p.exited;
    expect(exit.code, p.stderr()).to.equal(2);
    expect(p.stderr()).to.include('PB_ERR_STORAGE_WRITE');
    const got = acks(p.stdout());
    expect(got.size).to.be.greaterThan(10);
    const journal = path.join(dir, 'journal-0.log');
    const size = fs.statSync(journal).size;
    expect(size).to.be.at.most(256 * 512);
    const scan = scanRecords(fs.readFileSync(journal), JOURNAL_MAGIC);
    expect(scan.ok && scan.validEnd === size && !scan.torn, 'journal ends on a record boundary').to.equal(true);
    const store = new FileStore({ dir });
    await store.open();
    expect(store.stats.tornTails).to.equal(0);
    for (const [n, address] of got) expect((await store.services.leaseStore.findByClientId('crash', `c${n}`))?.address, `c${n}`).to.equal(address);
    await store.close();
  });

  it('a second process on the same folder fails with PB_ERR_STORAGE_LOCKED; a SIGKILLed owner\'s lock is taken over', async () => {
    const dir = temps.make();
    const holder = child([dir, 'hold', '0']);
    running.push(holder);
    const ready = await holder.waitFor(/READY \d+/, 20_000);
    const pid = Number(ready.split(' ')[1]);
    let err: (Error & { code?: string }) | undefined;
    try {
      await new FileStore({ dir }).open();
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).to.equal('PB_ERR_STORAGE_LOCKED');
    expect(err?.message).to.include(`pid ${pid}`).and.to.include(path.join(dir, 'LOCK'));
    // and the other way round: a child refuses while we hold it
    holder.child.kill('SIGKILL');
    await holder.exited;
    const mine = new FileStore({ dir });
    await mine.open();
    const second = child([dir, 'hold', '0']);
    running.push(second);
    const exit = await second.exited;
    expect(exit.code).to.equal(2);
    expect(second.stderr()).to.include('PB_ERR_STORAGE_LOCKED');
    await mine.close();
  });
});
