import { expect } from 'chai';
import pino from 'pino';
import type { BootEvent, BootEventLog, StoredBootEvent } from '@pureboot/core';
import { TimelineRecorder } from '../src/timeline';

const event = (i: number, mac = '52:54:00:00:00:01'): BootEvent => ({ mac, address: '198.18.0.10', at: 1796000000000 + i, source: 'http', kind: 'http.script', detail: { n: i } });
const tick = () => new Promise((r) => setImmediate(r));

/** A store whose appends wait until released (a PostgreSQL that stopped answering). */
function stalledStore() {
  const waiting: Array<{ e: Omit<StoredBootEvent, 'seq'>; resolve: () => void; reject: (err: Error) => void }> = [];
  const stored: Array<Omit<StoredBootEvent, 'seq'>> = [];
  const log: BootEventLog = {
    append: (e) =>
      new Promise((resolve, reject) => {
        waiting.push({
          e,
          resolve: () => {
            stored.push(e);
            resolve({ ...e, seq: stored.length });
          },
          reject,
        });
      }),
    list: async () => [],
  };
  return { log, waiting, stored };
}

describe('boot-api TimelineRecorder (the bootEvent tap)', () => {
  it('stores in the background; past maxInFlight waiting appends it drops and counts, and takes events again once the store answers', async () => {
    const store = stalledStore();
    const dropped: string[] = [];
    const persisted: number[] = [];
    const r = new TimelineRecorder({ bootEvents: store.log, logger: pino({ level: 'silent' }), maxInFlight: 3, onDropped: (ev, reason) => dropped.push(`${String(ev.detail.n)} ${reason}`), onPersisted: (ev) => persisted.push(ev.detail.n as number) });
    for (let i = 0; i < 5; i++) r.take(event(i));
    await tick();
    expect(store.waiting.map((w) => w.e.detail.n)).to.deep.equal([0, 1, 2]);
    expect(dropped).to.deep.equal(['3 backlog', '4 backlog']);
    expect(r.pending).to.equal(3);
    for (const w of store.waiting.splice(0)) w.resolve();
    await tick();
    expect(r.pending).to.equal(0);
    expect(persisted).to.deep.equal([0, 1, 2]);
    r.take(event(5));
    await tick();
    expect(store.waiting.map((w) => w.e.detail.n)).to.deep.equal([5]);
    expect(store.waiting[0].e).to.include({ mac: '52:54:00:00:00:01', kind: 'http.script' });
  });

  it('a failing store call is counted as dropped (error) and frees its place; nothing is thrown', async () => {
    const store = stalledStore();
    const dropped: string[] = [];
    const r = new TimelineRecorder({ bootEvents: store.log, logger: pino({ level: 'silent' }), maxInFlight: 1, onDropped: (ev, reason) => dropped.push(`${String(ev.detail.n)} ${reason}`) });
    r.take(event(0));
    await tick();
    store.waiting.splice(0)[0].reject(new Error('connection terminated'));
    await tick();
    expect(dropped).to.deep.equal(['0 error']);
    expect(r.pending).to.equal(0);
    r.take(event(1));
    await tick();
    expect(store.waiting).to.have.length(1);
  });
});
