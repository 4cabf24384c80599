import { expect } from 'chai';
import sinon from 'sinon';
import { createHooks } from '@pureboot/core';
import { DeadlineQueue } from '../src/hooks/deadline-queue';
import { captureLogger } from './support/log-capture';

describe('DeadlineQueue (one timer per hook for every tap call’s deadline)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  it('expires overrunning calls in start order, at their own deadlines, and never the settled ones', () => {
    const q = new DeadlineQueue(100);
    const expired: string[] = [];
    const a = q.add(() => expired.push('a'));
    clock.tick(30);
    const b = q.add(() => expired.push('b'));
    clock.tick(30);
    const c = q.add(() => expired.push('c'));
    expect(q.settle(b)).to.equal(true);
    clock.tick(39);
    expect(expired).to.deep.equal([]);
    clock.tick(1); // a: 100 ms
    expect(expired).to.deep.equal(['a']);
    clock.tick(59); // c: 160 ms; b was settled
    expect(expired).to.deep.equal(['a']);
    clock.tick(1);
    expect(expired).to.deep.equal(['a', 'c']);
    expect(q.settle(a)).to.equal(false, 'a late settle reports the expiry');
    expect(q.settle(c)).to.equal(false);
    expect(q.pending).to.equal(0);
  });

  it('calls one after another arm one timer per deadline period, and an idle queue re-arms nothing', () => {
    const q = new DeadlineQueue(5000);
    for (let i = 0; i < 3000; i++) {
      const e = q.add(() => expect.fail('settled calls never expire'));
      expect(q.settle(e)).to.equal(true);
    }
    const concurrent = Array.from({ length: 3000 }, () => q.add(() => expect.fail('settled calls never expire')));
    expect(clock.countTimers()).to.equal(1, 'one timer for all of them');
    for (const e of concurrent.reverse()) q.settle(e);
    expect(q.pending).to.equal(0);
    clock.tick(5000);
    expect(clock.countTimers()).to.equal(0, 'nothing pending: not re-armed');
    const late = q.add(() => undefined);
    expect(clock.countTimers()).to.equal(1);
    q.settle(late);
  });

  it('a hook with 500 concurrent slow calls uses one timer and times each out once', async () => {
    const cap = captureLogger();
    const hooks = createHooks({ logger: cap.logger, deadlines: { default: 50 } });
    hooks.fileResolve.tapPromise('slow', () => new Promise(() => undefined));
    const calls = Array.from({ length: 500 }, () => hooks.fileResolve.promise({ path: 'x', protocol: 'tftp', client: { address: '198.18.0.9' } } as never));
    expect(clock.countTimers()).to.equal(1);
    await clock.tickAsync(50);
    const results = await Promise.all(calls);
    expect(results.every((r) => r === undefined)).to.equal(true);
    expect(cap.lines().filter((l) => l.code === 'PB_ERR_HOOK_TIMEOUT')).to.have.length(500);
    await clock.tickAsync(50);
    expect(clock.countTimers()).to.equal(0);
  });
});
