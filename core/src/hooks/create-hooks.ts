import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { Logger } from '../logger';
import { CoreErrorCodes } from '../errors';
import { DeadlineQueue } from './deadline-queue';
import type {
  BootEvent,
  FileRequest,
  FileResolution,
  LeaseDecision,
  LeaseDecisionContext,
  LeaseEvent,
  NodeStateChangedEvent,
  PacketDropVerdict,
  PacketDroppedEvent,
  PacketReceiveContext,
  PacketSentEvent,
  ScriptRenderContext,
  StartedInfo,
  StoppingInfo,
} from './types';

/**
 * Every hook of PureBoot, declared once. See docs/hooks.md for arguments, timing and results.
 *
 * - bail hooks: the first tap that returns something other than `undefined` decides;
 * - waterfall: each tap receives the previous tap's result and returns the next value;
 * - notification hooks: observers only; their results are ignored and they never block a reply.
 */
export interface PurebootHooks {
  /** bail — a decoded DHCP/TFTP request arrived; return `{drop:true, reason}` to drop it. */
  readonly packetReceive: AsyncSeriesBailHook<[PacketReceiveContext], PacketDropVerdict | undefined>;
  /** bail — the answer to a DHCP client; the DHCP allocator is the BUILTIN-stage tap. */
  readonly leaseDecision: AsyncSeriesBailHook<[LeaseDecisionContext], LeaseDecision | undefined>;
  /** bail — a TFTP/HTTP path becomes a file, "not found" or "denied"; the static root is BUILTIN. */
  readonly fileResolve: AsyncSeriesBailHook<[FileRequest], FileResolution | undefined>;
  /** waterfall — the iPXE script for one machine; each tap may rewrite it. */
  readonly scriptRender: AsyncSeriesWaterfallHook<[string, ScriptRenderContext]>;
  /** series — all plugins started. */
  readonly started: AsyncSeriesHook<[StartedInfo]>;
  /** series — shutdown begins (before plugins stop). */
  readonly stopping: AsyncSeriesHook<[StoppingInfo]>;
  /** notification — a reply datagram left. */
  readonly packetSent: AsyncParallelHook<[PacketSentEvent]>;
  /** notification — a datagram was dropped (malformed, policy, rate limit …). */
  readonly packetDropped: AsyncParallelHook<[PacketDroppedEvent]>;
  /** notification — a lease changed in the store (offered, bound, renewed, released, declined, expired). */
  readonly leaseCommitted: AsyncParallelHook<[LeaseEvent]>;
  /** notification — a machine's lifecycle state changed. */
  readonly nodeStateChanged: AsyncParallelHook<[NodeStateChangedEvent]>;
  /** notification — one entry of a machine's boot timeline. */
  readonly bootEvent: AsyncParallelHook<[BootEvent]>;
}

export type HookName = keyof PurebootHooks;

export const HOOK_NAMES: readonly HookName[] = Object.freeze([
  'packetReceive',
  'leaseDecision',
  'fileResolve',
  'scriptRender',
  'started',
  'stopping',
  'packetSent',
  'packetDropped',
  'leaseCommitted',
  'nodeStateChanged',
  'bootEvent',
]);

/** What an async tap that overruns its deadline counts as (docs/hooks.md "Deadlines"). */
const TIMEOUT_DEFAULT: Record<HookName, 'undefined' | 'first-argument'> = {
  packetReceive: 'undefined', // continue
  leaseDecision: 'undefined', // no opinion: the next tap (finally the allocator) decides
  fileResolve: 'undefined', // no opinion: the next resolver runs
  scriptRender: 'first-argument', // the script passes through unchanged
  started: 'undefined',
  stopping: 'undefined',
  packetSent: 'undefined',
  packetDropped: 'undefined',
  leaseCommitted: 'undefined',
  nodeStateChanged: 'undefined',
  bootEvent: 'undefined',
};

export interface HookOptions {
  logger: Logger;
  /** Deadline in ms for each async tap, per hook; `default` for the rest. */
  deadlines: { default: number } & Partial<Record<HookName, number>>;
}

export function createHooks(opts: HookOptions): PurebootHooks {
  const hooks: PurebootHooks = {
    packetReceive: new AsyncSeriesBailHook(['context']),
    leaseDecision: new AsyncSeriesBailHook(['context']),
    fileResolve: new AsyncSeriesBailHook(['request']),
    scriptRender: new AsyncSeriesWaterfallHook(['script', 'context']),
    started: new AsyncSeriesHook(['info']),
    stopping: new AsyncSeriesHook(['info']),
    packetSent: new AsyncParallelHook(['event']),
    packetDropped: new AsyncParallelHook(['event']),
    leaseCommitted: new AsyncParallelHook(['event']),
    nodeStateChanged: new AsyncParallelHook(['event']),
    bootEvent: new AsyncParallelHook(['event']),
  };
  for (const name of HOOK_NAMES) {
    const ms = opts.deadlines[name] ?? opts.deadlines.default;
    const hook = hooks[name] as unknown as InterceptableHook;
    installDeadline(name, hook, ms, TIMEOUT_DEFAULT[name], opts.logger);
    // tapable counts interceptors as use: with the deadline interceptor on every hook, isUsed() would
    // always be true and the hot paths could never skip a hook nobody tapped. A hook is used when it
    // has a tap, or an interceptor somebody else added (a tracer's `call` must still see calls).
    const ours = hook.interceptors.slice();
    builtinInterceptors.set(hook, ours.length);
    hook.isUsed = () => hook.taps.length > 0 || hook.interceptors.some((i) => !ours.includes(i));
  }
  return Object.freeze(hooks);
}

/** Per hook, how many interceptors the core installed itself (more: somebody traces it). */
const builtinInterceptors = new WeakMap<object, number>();

interface TapLike {
  type: 'sync' | 'async' | 'promise';
  name: string;
  fn: (...args: unknown[]) => unknown;
}
interface InterceptableHook {
  intercept(i: { register?: (tap: TapLike) => TapLike }): void;
  readonly taps: TapLike[];
  readonly interceptors: object[];
  isUsed(): boolean;
}

/**
 * Wrap every async tap of a hook so that it settles within `ms`: an overrunning tap is logged
 * (PB_ERR_HOOK_TIMEOUT) and counts as the hook's documented default result. Sync taps cannot overrun.
 */
function installDeadline(
  hook: HookName,
  target: InterceptableHook,
  ms: number,
  onTimeout: 'undefined' | 'first-argument',
  logger: Logger,
): void {
  const queue = new DeadlineQueue(ms);
  target.intercept({
    register(tap) {
      if (tap.type === 'sync') return tap;
      const original = tap.fn;
      const overran = (args: unknown[]): unknown => {
        logger.warn({ code: CoreErrorCodes.HOOK_TIMEOUT, hook, tap: tap.name, deadlineMs: ms }, `tap "${tap.name}" on ${hook} overran its ${ms} ms deadline; using the hook's default`);
        return onTimeout === 'first-argument' ? args[0] : undefined;
      };
      if (tap.type === 'promise') {
        return { ...tap, fn: (...args: unknown[]) => withDeadline(() => original(...args) as Promise<unknown>, queue, () => overran(args)) };
      }
      // 'async' (callback style): the callback is the last argument.
      return {
        ...tap,
        fn: (...args: unknown[]) => {
          const callback = args[args.length - 1] as (err?: unknown, result?: unknown) => void;
          const rest = args.slice(0, -1);
          const entry = queue.add(() => callback(undefined, overran(rest)));
          original(...rest, (err?: unknown, result?: unknown) => {
            if (queue.settle(entry)) callback(err, result);
          });
        },
      };
    },
  });
}

function withDeadline<T>(run: () => Promise<T>, queue: DeadlineQueue, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let p: Promise<T>;
    try {
      p = Promise.resolve(run());
    } catch (err) {
      reject(err);
      return;
    }
    const entry = queue.add(() => resolve(onTimeout()));
    p.then(
      (v) => {
        if (queue.settle(entry)) resolve(v);
      },
      (err) => {
        if (queue.settle(entry)) reject(err);
      },
    );
  });
}

/**
 * Fire a notification hook without waiting for it: observers never delay a reply. Errors are
 * logged, never thrown. The returned promise settles when every observer has finished (tests await it).
 */
export function notify<T>(hook: AsyncParallelHook<[T]>, event: T, logger: Logger): Promise<void> {
  if (!hook.isUsed()) return SETTLED;
  const h = hook as unknown as InterceptableHook;
  if (onlySyncObservers(h)) {
    // Every observer is a sync tap and nobody intercepts: call them here, each on its own, without
    // the promise and the compiled hook function tapable would build for every event (a boot
    // request's http.script event, every TFTP transfer's). One that throws is logged, and the
    // others still hear of the event (tapable's parallel hook skips the taps after a throwing one).
    for (const tap of h.taps) {
      try {
        tap.fn(event);
      } catch (err) {
        logger.error({ err, tap: tap.name }, 'a notification observer failed');
      }
    }
    return SETTLED;
  }
  return hook.promise(event).catch((err: unknown) => {
    logger.error({ err }, 'a notification observer failed');
  });
}

const SETTLED: Promise<void> = Promise.resolve();

function onlySyncObservers(h: InterceptableHook): boolean {
  if (h.interceptors.length !== (builtinInterceptors.get(h) ?? -1)) return false;
  const taps = h.taps;
  for (let i = 0; i < taps.length; i++) if (taps[i].type !== 'sync') return false;
  return true;
}
