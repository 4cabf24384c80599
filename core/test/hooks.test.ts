import { expect } from 'chai';
import { createHooks, notify, Stage, type LeaseDecisionContext, type PacketReceiveContext, type ScriptRenderContext } from '@pureboot/core';
import { captureLogger } from './support/log-capture';

const leaseCtx: LeaseDecisionContext = {
  protocol: 'dhcp',
  messageType: 'DISCOVER',
  mac: '52:54:00:12:34:56',
  clientId: '01525400123456',
  pxe: { archName: 'bios', isPxe: true, isHttpBoot: false, isIpxe: false },
  packet: {},
};
const scriptCtx: ScriptRenderContext = { mac: '52:54:00:12:34:56', query: {}, baseUrl: 'http://198.18.0.1:8080', client: { address: '198.18.0.10' } };

function hooksWith(deadlines: Record<string, number> = {}) {
  const cap = captureLogger();
  const hooks = createHooks({ logger: cap.logger, deadlines: { default: 200, ...deadlines } });
  return { hooks, logs: cap.lines };
}

describe('core hooks', () => {
  it('is one frozen object with every documented hook', () => {
    const { hooks } = hooksWith();
    expect(Object.isFrozen(hooks)).to.equal(true);
    expect(Object.keys(hooks)).to.have.members([
      'packetReceive', 'leaseDecision', 'fileResolve', 'scriptRender', 'started', 'stopping',
      'packetSent', 'packetDropped', 'leaseCommitted', 'nodeStateChanged', 'bootEvent',
    ]);
  });

  it('runs taps by stage, whatever the order they were tapped in', async () => {
    const { hooks } = hooksWith();
    const order: string[] = [];
    hooks.packetReceive.tap({ name: 'late', stage: Stage.LATE }, () => void order.push('late'));
    hooks.packetReceive.tap({ name: 'guard', stage: Stage.GUARD }, () => void order.push('guard'));
    hooks.packetReceive.tap('default', () => void order.push('default'));
    const ctx: PacketReceiveContext = { protocol: 'tftp', messageType: 'RRQ', remote: { address: '127.0.0.1', port: 1 }, packet: {} };
    expect(await hooks.packetReceive.promise(ctx)).to.equal(undefined);
    expect(order).to.deep.equal(['guard', 'default', 'late']);
  });

  it('bail: a plugin at the default stage pre-empts the built-in tap; undefined hands on', async () => {
    const { hooks } = hooksWith();
    let builtinCalls = 0;
    hooks.leaseDecision.tapPromise({ name: 'allocator', stage: Stage.BUILTIN }, async () => {
      builtinCalls += 1;
      return { action: 'answer', address: '198.18.0.100' };
    });
    hooks.leaseDecision.tapPromise('site-policy', async (ctx) => (ctx.mac === '52:54:00:12:34:56' ? { action: 'ignore', reason: 'not on the list' } : undefined));
    expect(await hooks.leaseDecision.promise(leaseCtx)).to.deep.equal({ action: 'ignore', reason: 'not on the list' });
    expect(builtinCalls).to.equal(0);
    expect(await hooks.leaseDecision.promise({ ...leaseCtx, mac: '52:54:00:00:00:01' })).to.deep.equal({ action: 'answer', address: '198.18.0.100' });
    expect(builtinCalls).to.equal(1);
  });

  it('waterfall: each scriptRender tap transforms what the previous produced', async () => {
    const { hooks } = hooksWith();
    hooks.scriptRender.tap({ name: 'b', stage: Stage.LATE }, (s) => `${s}\necho b`);
    hooks.scriptRender.tapPromise('a', async (s, ctx) => `${s}\necho a ${ctx.mac}`);
    expect(await hooks.scriptRender.promise('#!ipxe', scriptCtx)).to.equal('#!ipxe\necho a 52:54:00:12:34:56\necho b');
  });

  it('an overrunning bail tap counts as "no opinion": the next tap decides, and it is logged', async () => {
    const { hooks, logs } = hooksWith({ leaseDecision: 50 });
    hooks.leaseDecision.tapPromise('slow-policy', () => new Promise((r) => setTimeout(() => r({ action: 'ignore', reason: 'too late' }), 500)));
    hooks.leaseDecision.tapPromise({ name: 'allocator', stage: Stage.BUILTIN }, async () => ({ action: 'answer', address: '198.18.0.7' }));
    const started = Date.now();
    expect(await hooks.leaseDecision.promise(leaseCtx)).to.deep.equal({ action: 'answer', address: '198.18.0.7' });
    expect(Date.now() - started).to.be.lessThan(450);
    const warn = logs().find((l) => l.code === 'PB_ERR_HOOK_TIMEOUT');
    expect(warn).to.include({ hook: 'leaseDecision', tap: 'slow-policy', deadlineMs: 50 });
  });

  it('an overrunning waterfall tap passes the script through unchanged', async () => {
    const { hooks } = hooksWith({ scriptRender: 30 });
    hooks.scriptRender.tapPromise('stuck', () => new Promise(() => undefined));
    hooks.scriptRender.tap({ name: 'after', stage: Stage.LATE }, (s) => `${s}\necho after`);
    expect(await hooks.scriptRender.promise('#!ipxe', scriptCtx)).to.equal('#!ipxe\necho after');
  });

  it('callback-style async taps get the same deadline', async () => {
    const { hooks } = hooksWith({ fileResolve: 30 });
    hooks.fileResolve.tapAsync('never-calls-back', (_req, _cb) => undefined);
    hooks.fileResolve.tapPromise({ name: 'fallback', stage: Stage.BUILTIN }, async () => ({ status: 'not-found' as const }));
    expect(await hooks.fileResolve.promise({ protocol: 'tftp', path: 'x', client: { address: '127.0.0.1' } })).to.deep.equal({ status: 'not-found' });
  });

  it('a tap that throws fails the call (the caller drops the packet); it is not swallowed', async () => {
    const { hooks } = hooksWith();
    hooks.packetReceive.tapPromise('broken', async () => {
      throw new Error('policy bug');
    });
    let caught: unknown;
    try {
      await hooks.packetReceive.promise({ protocol: 'dhcp', messageType: 'DISCOVER', remote: { address: '0.0.0.0', port: 68 }, packet: {} });
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).to.equal('policy bug');
  });

  it('notify() never throws and skips unused hooks', async () => {
    const { hooks, logs } = hooksWith();
    await notify(hooks.bootEvent, { at: 1, source: 'tftp', kind: 'tftp.done', detail: {} }, captureLogger().logger);
    const seen: string[] = [];
    hooks.bootEvent.tapPromise('observer', async (e) => void seen.push(e.kind));
    hooks.bootEvent.tapPromise('broken-observer', async () => {
      throw new Error('observer bug');
    });
    await notify(hooks.bootEvent, { at: 1, source: 'tftp', kind: 'tftp.done', detail: {} }, captureLogger().logger);
    expect(seen).to.deep.equal(['tftp.done']);
    expect(logs()).to.be.an('array');
  });

  it('notify() with sync observers only: each hears the event even when one throws (logged), synchronously; a tracer and a promise observer go through tapable', async () => {
    const { hooks } = hooksWith();
    const log = captureLogger();
    const seen: string[] = [];
    hooks.bootEvent.tap('first', (e) => void seen.push(`first ${e.kind}`));
    hooks.bootEvent.tap('broken', () => {
      throw new Error('observer bug');
    });
    hooks.bootEvent.tap('last', (e) => void seen.push(`last ${e.kind}`));
    const p = notify(hooks.bootEvent, { at: 1, source: 'tftp', kind: 'tftp.done', detail: {} }, log.logger);
    expect(seen, 'called before notify returns').to.deep.equal(['first tftp.done', 'last tftp.done']);
    await p;
    const errors = log.lines().filter((l) => l.msg === 'a notification observer failed');
    expect(errors.map((l) => l.tap)).to.deep.equal(['broken']);
    // A tracer's interceptor must see the call: tapable's path.
    const traced: string[] = [];
    hooks.bootEvent.intercept({ call: (e) => void traced.push(e.kind) });
    await notify(hooks.bootEvent, { at: 2, source: 'tftp', kind: 'tftp.start', detail: {} }, log.logger);
    expect(traced).to.deep.equal(['tftp.start']);
    // A promise observer is awaited by the returned promise.
    const { hooks: h2 } = hooksWith();
    let resolved = false;
    h2.bootEvent.tap('sync', () => undefined);
    h2.bootEvent.tapPromise('slow', () => new Promise<void>((r) => setTimeout(() => ((resolved = true), r()), 20)));
    await notify(h2.bootEvent, { at: 3, source: 'tftp', kind: 'tftp.done', detail: {} }, log.logger);
    expect(resolved).to.equal(true);
  });

  it('isUsed() is false until something taps (the deadline interceptor does not count); a foreign interceptor counts', () => {
    const { hooks } = hooksWith();
    for (const name of Object.keys(hooks) as Array<keyof typeof hooks>) expect(hooks[name].isUsed(), name).to.equal(false);
    hooks.bootEvent.tap('observer', () => undefined);
    expect(hooks.bootEvent.isUsed()).to.equal(true);
    const calls: string[] = [];
    hooks.packetSent.intercept({ call: (e) => void calls.push(e.protocol) });
    expect(hooks.packetSent.isUsed(), 'a tracer interceptor must still see calls').to.equal(true);
    expect(hooks.scriptRender.isUsed()).to.equal(false);
  });
});
