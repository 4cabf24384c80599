import { expect } from 'chai';
import pino from 'pino';
import type { BootEvent, BootEventLog, StoredBootEvent } from '@pureboot/core';
import { TimelineRecorder } from '../src/timeline';

const event = (i: number, mac: string | undefined = '52:54:00:00:00:01'): BootEvent => ({ mac, address: '198.18.0.10', at: 1796000000000 + i, source: 'http', kind: 'http.script', detail: { n: i } });
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

  it('events that carry their MAC are stored with one appendMany per event-loop turn, in order; a MAC-less one is attributed and appended alone', async () => {
    const calls: string[] = [];
    const log: BootEventLog = {
      append: async (e) => {
        calls.push(`append ${e.kind} ${e.mac}`);
        return { ...e, seq: 0 };
      },
      appendMany: async (es) => {
        calls.push(`appendMany ${es.map((e) => `${e.kind}#${String(e.detail.n)}`).join(',')}`);
        return es.map((e) => ({ ...e, seq: 0 }));
      },
      list: async () => [],
    };
    const persisted: string[] = [];
    const r = new TimelineRecorder({ bootEvents: log, logger: pino({ level: 'silent' }), onPersisted: (ev, attributed) => persisted.push(`${ev.kind}#${String(ev.detail.n)} ${attributed}`) });
    r.take({ ...event(1), kind: 'dhcp.ack' });
    r.take(event(2));
    r.take({ mac: undefined, address: '198.18.0.10', at: 1, source: 'tftp', kind: 'tftp.done', detail: { n: 3 } });
    r.take(event(4, '52-54-00-00-00-02'));
    expect(calls, 'nothing before the end of the turn').to.deep.equal([]);
    expect(r.pending).to.equal(4);
    await tick();
    await tick();
    expect(calls).to.deep.equal(['append tftp.done 52:54:00:00:00:01', 'appendMany dhcp.ack#1,http.script#2,http.script#4']);
    expect(persisted.sort()).to.deep.equal(['dhcp.ack#1 true', 'http.script#2 true', 'http.script#4 true', 'tftp.done#3 true']);
    expect(r.pending).to.equal(0);
    r.take(event(5));
    await tick();
    expect(calls.slice(2)).to.deep.equal(['appendMany http.script#5'], 'a later turn is a batch of its own');
  });

  it('when a batch is rejected, its events are stored one by one: only the bad one is lost, and counted', async () => {
    const stored: number[] = [];
    const log: BootEventLog = {
      append: async (e) => {
        if (e.detail.n === 2) throw new Error('bad event');
        stored.push(e.detail.n as number);
        return { ...e, seq: stored.length };
      },
      appendMany: async () => {
        throw new Error('bad event in the batch');
      },
      list: async () => [],
    };
    const dropped: string[] = [];
    const r = new TimelineRecorder({ bootEvents: log, logger: pino({ level: 'silent' }), onDropped: (ev, reason) => dropped.push(`${String(ev.detail.n)} ${reason}`) });
    for (let i = 1; i <= 3; i++) r.take(event(i));
    await tick();
    await tick();
    expect(stored).to.deep.equal([1, 3]);
    expect(dropped).to.deep.equal(['2 error']);
    expect(r.pending).to.equal(0);
  });

  it('one batch is stored at a time: events taken meanwhile wait and form the next, and a rejected batch is retried in order before it', async () => {
    const calls: string[] = [];
    const pending: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
    const log: BootEventLog = {
      append: async (e) => {
        calls.push(`append #${String(e.detail.n)}`);
        return { ...e, seq: 0 };
      },
      appendMany: (es) =>
        new Promise((resolve, reject) => {
          calls.push(`appendMany ${es.map((e) => `#${String(e.detail.n)}`).join(',')}`);
          pending.push({ resolve: () => resolve(es.map((e) => ({ ...e, seq: 0 }))), reject });
        }),
      list: async () => [],
    };
    const r = new TimelineRecorder({ bootEvents: log, logger: pino({ level: 'silent' }) });
    r.take(event(1));
    r.take(event(2));
    await tick();
    expect(calls).to.deep.equal(['appendMany #1,#2']);
    r.take(event(3));
    await tick();
    r.take(event(4));
    await tick();
    expect(calls, 'nothing more while the first batch is being stored').to.deep.equal(['appendMany #1,#2']);
    let done = false;
    void r.settled().then(() => (done = true));
    pending.shift()!.reject(new Error('a bad event in the batch'));
    await tick();
    await tick();
    expect(calls).to.deep.equal(['appendMany #1,#2', 'append #1', 'append #2', 'appendMany #3,#4']);
    expect(done, 'settled waits for the batch still being stored').to.equal(false);
    pending.shift()!.resolve();
    await tick();
    expect(done).to.equal(true);
    expect(r.pending).to.equal(0);
  });
});

