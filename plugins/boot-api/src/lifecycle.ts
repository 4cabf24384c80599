import { notify, NODE_STATES, type Clock, type ClockTimer, type Logger, type NodeCreate, type NodePatch, type NodeRecord, type NodeState, type NodeStore, type PurebootHooks } from '@pureboot/core';

/**
 * The node lifecycle: which state changes are allowed, and who makes them.
 *
 * | from        | to (allowed)                               |
 * |-------------|--------------------------------------------|
 * | discovered  | pending, retired                           |
 * | pending     | installing, discovered, failed, retired    |
 * | installing  | installed, failed, pending, retired        |
 * | installed   | active, pending, failed, retired           |
 * | active      | pending, retired                           |
 * | failed      | pending, discovered, retired               |
 * | retired     | discovered                                 |
 */
export const TRANSITIONS: Readonly<Record<NodeState, readonly NodeState[]>> = Object.freeze({
  discovered: ['pending', 'retired'],
  pending: ['installing', 'discovered', 'failed', 'retired'],
  installing: ['installed', 'failed', 'pending', 'retired'],
  installed: ['active', 'pending', 'failed', 'retired'],
  active: ['pending', 'retired'],
  failed: ['pending', 'discovered', 'retired'],
  retired: ['discovered'],
});

/** Where a state goes when it lasts longer than its configured timeout. */
export const TIMEOUT_TARGET: Readonly<Partial<Record<NodeState, NodeState>>> = Object.freeze({
  pending: 'failed',
  installing: 'failed',
  installed: 'active',
});

export function canTransition(from: NodeState, to: NodeState): boolean {
  return TRANSITIONS[from].includes(to);
}

export type TransitionResult =
  | { ok: true; node: NodeRecord; from: NodeState }
  | { ok: false; reason: 'not-found' }
  | { ok: false; reason: 'not-allowed' | 'unexpected-state' | 'conflict'; node: NodeRecord };

export interface TransitionOptions {
  reason: string;
  actor: string;
  /** Apply only when the machine is in one of these states (compare-and-set on the state). */
  from?: readonly NodeState[];
  /** More changes written in the same update (lastSeen, arch, attributes …). */
  patch?: Omit<NodePatch, 'state' | 'transition'>;
}

export interface LifecycleDeps {
  nodeStore: NodeStore;
  hooks: PurebootHooks;
  clock: Clock;
  logger: Logger;
  /** Per-state timeouts in ms (pending, installing, installed); 0 or missing = none. */
  timeouts: Partial<Record<NodeState, number>>;
  onTransition?: (from: NodeState | null, to: NodeState) => void;
}

const MAX_CAS_ATTEMPTS = 8;

/**
 * Applies lifecycle transitions with compare-and-set (two boot requests racing for one pending
 * machine: exactly one wins), fires nodeStateChanged and a `lifecycle.transition` bootEvent, and runs
 * the per-state timeouts on the injected clock.
 */
export class NodeLifecycle {
  private readonly timers = new Map<string, { timer: ClockTimer; state: NodeState; since: number }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private running = false;

  constructor(private readonly deps: LifecycleDeps) {}

  /** Observe every transition (metrics). */
  observe(fn: (from: NodeState | null, to: NodeState) => void): void {
    this.deps.onTransition = fn;
  }

  /** Register an unknown machine (state discovered unless told). Returns the existing record when it raced. */
  async register(create: NodeCreate, actor: string): Promise<{ node: NodeRecord; created: boolean }> {
    const res = await this.deps.nodeStore.create(create);
    if (!res.ok) return { node: res.current, created: false };
    this.announce(null, res.node, create.reason ?? 'registered', actor);
    return { node: res.node, created: true };
  }

  async transition(mac: string, to: NodeState, o: TransitionOptions): Promise<TransitionResult> {
    let node = await this.deps.nodeStore.get(mac);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (!node) return { ok: false, reason: 'not-found' };
      if (o.from && !o.from.includes(node.state)) return { ok: false, reason: 'unexpected-state', node };
      if (!canTransition(node.state, to)) return { ok: false, reason: 'not-allowed', node };
      const at = this.deps.clock.now();
      const res = await this.deps.nodeStore.update(mac, node.version, { ...o.patch, state: to, transition: { reason: o.reason, actor: o.actor, at } });
      if (res.ok) {
        this.announce(node.state, res.node, o.reason, o.actor);
        return { ok: true, node: res.node, from: node.state };
      }
      if (res.reason === 'not-found') return { ok: false, reason: 'not-found' };
      node = res.current;
    }
    return { ok: false, reason: 'conflict', node: node as NodeRecord };
  }

  private announce(from: NodeState | null, node: NodeRecord, reason: string, actor: string): void {
    const { hooks, logger, clock } = this.deps;
    const at = clock.now();
    this.deps.onTransition?.(from, node.state);
    logger.info({ mac: node.mac, from, to: node.state, reason, actor }, `node ${node.mac}: ${from ?? 'new'} → ${node.state} (${reason})`);
    this.track(notify(hooks.nodeStateChanged, { mac: node.mac, from, to: node.state, reason, at, node }, logger));
    this.track(notify(hooks.bootEvent, { mac: node.mac, at, source: 'lifecycle', kind: 'lifecycle.transition', detail: { from, to: node.state, reason, actor } }, logger));
    this.schedule(node);
  }

  /** Start the timeouts of machines already in a timed state (after a restart). */
  async start(): Promise<void> {
    this.running = true;
    for (const state of Object.keys(TIMEOUT_TARGET) as NodeState[]) {
      if (!this.deps.timeouts[state]) continue;
      let cursor: string | undefined;
      do {
        const page = await this.deps.nodeStore.list({ state, cursor, limit: 1000 });
        for (const n of page.items) this.schedule(n);
        cursor = page.nextCursor;
      } while (cursor);
    }
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t.timer);
    this.timers.clear();
  }

  /** Resolves when every notification and timeout transition started so far has finished (tests). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** When the machine's current state times out (epoch ms), if it does. */
  deadline(node: NodeRecord): number | undefined {
    const ms = this.deps.timeouts[node.state];
    return TIMEOUT_TARGET[node.state] && ms ? node.stateSince + ms : undefined;
  }

  private schedule(node: NodeRecord): void {
    const old = this.timers.get(node.mac);
    if (old) {
      if (old.state === node.state && old.since === node.stateSince) return;
      this.deps.clock.clearTimeout(old.timer);
      this.timers.delete(node.mac);
    }
    const due = this.deadline(node);
    if (!this.running || due === undefined) return;
    const { state, stateSince, mac } = node;
    const ms = this.deps.timeouts[state] as number;
    const timer = this.deps.clock.setTimeout(
      () => {
        this.timers.delete(mac);
        this.track(this.expire(mac, state, stateSince, ms));
      },
      Math.max(0, due - this.deps.clock.now()),
    );
    if (typeof timer === 'object' && timer && 'unref' in timer && typeof timer.unref === 'function') timer.unref();
    this.timers.set(mac, { timer, state, since: stateSince });
  }

  private async expire(mac: string, state: NodeState, since: number, ms: number): Promise<void> {
    const node = await this.deps.nodeStore.get(mac);
    if (!node || node.state !== state || node.stateSince !== since) return;
    const to = TIMEOUT_TARGET[state] as NodeState;
    const res = await this.transition(mac, to, { from: [state], reason: `${state} for longer than ${Math.round(ms / 1000)} s`, actor: 'timeout' });
    if (!res.ok && res.reason !== 'unexpected-state' && res.reason !== 'not-found') this.deps.logger.warn({ mac, state, result: res.reason }, `node ${mac}: ${state} timed out but the transition to ${to} failed`);
  }

  private track(p: Promise<unknown>): void {
    const wrapped = p.catch((err: unknown) => this.deps.logger.error({ err }, 'lifecycle work failed'));
    this.inflight.add(wrapped);
    void wrapped.finally(() => this.inflight.delete(wrapped));
  }
}

export { NODE_STATES };
