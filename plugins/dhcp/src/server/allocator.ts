import { intToIp, ipToInt, type AllocateResult, type Clock, type LeaseDecision, type LeaseDecisionContext, type LeaseStore, type Logger } from '@pureboot/core';
import type { DhcpPluginOptions } from '../options';
import type { DhcpMetrics } from '../metrics';
import { contains, isDynamic, type Subnet, type SubnetTable } from './subnets';

export const ALLOCATOR_TAP = 'dhcp:allocator';
export const EXHAUSTED_REASON = 'pool exhausted';

/**
 * The built-in policy, tapped on leaseDecision at Stage.BUILTIN: DISCOVER → an address from the
 * client's reservation, its current lease, the address it asks for, or the pool (held for
 * offerHoldSec); REQUEST → the requested address is acceptable for this client (else NAK);
 * INFORM → answer with configuration only.
 */
export class Allocator {
  /** The lease an allocation produced, by decision context (read by the server after the hook). */
  readonly offered = new WeakMap<LeaseDecisionContext, AllocateResult>();

  constructor(
    private readonly deps: { store: () => LeaseStore; clock: Clock; logger: Logger; metrics: DhcpMetrics; options: DhcpPluginOptions; subnets: SubnetTable },
  ) {}

  subnetOf(ctx: LeaseDecisionContext): Subnet | undefined {
    return ctx.subnet ? this.deps.subnets.byId(ctx.subnet.id) : undefined;
  }

  async decide(ctx: LeaseDecisionContext): Promise<LeaseDecision | undefined> {
    if (ctx.protocol !== 'dhcp') return undefined;
    const subnet = this.subnetOf(ctx);
    if (!subnet) return { action: 'ignore', reason: 'no subnet for this client', decidedBy: ALLOCATOR_TAP };
    const res = this.deps.subnets.reservationFor(subnet, ctx.mac, ctx.clientId);
    if (ctx.messageType === 'INFORM') return { action: 'answer', decidedBy: ALLOCATOR_TAP };
    if (ctx.messageType === 'DISCOVER') {
      const result = await this.allocate(ctx, subnet);
      this.offered.set(ctx, result);
      if (!result.ok) return { action: 'ignore', reason: res ? `reserved address ${res.address} is in use` : EXHAUSTED_REASON, decidedBy: ALLOCATOR_TAP };
      return { action: 'answer', address: intToIp(result.lease.address), decidedBy: ALLOCATOR_TAP };
    }
    // REQUEST: is the requested address acceptable for this client?
    const want = ctx.requestedAddress;
    if (!want) return { action: 'nak', reason: 'no requested address', decidedBy: ALLOCATOR_TAP };
    const a = ipToInt(want);
    if (!contains(subnet, a)) return { action: 'nak', reason: `${want} is not in subnet ${subnet.cidr}`, decidedBy: ALLOCATOR_TAP };
    if (res) {
      if (res.addressInt !== a) return { action: 'nak', reason: `client is reserved ${res.address}, not ${want}`, decidedBy: ALLOCATOR_TAP };
    } else if (!isDynamic(subnet, a)) {
      return { action: 'nak', reason: `${want} is outside the pools of ${subnet.id}`, decidedBy: ALLOCATOR_TAP };
    }
    return { action: 'answer', address: want, decidedBy: ALLOCATOR_TAP };
  }

  /** Allocate for a DISCOVER: reservation (only that address), else current lease / requested / pool. */
  async allocate(ctx: LeaseDecisionContext, subnet: Subnet, forced?: string): Promise<AllocateResult> {
    const now = this.deps.clock.now();
    const res = this.deps.subnets.reservationFor(subnet, ctx.mac, ctx.clientId);
    let preferred: number | undefined;
    let preferredOnly = false;
    if (forced) {
      preferred = ipToInt(forced);
      preferredOnly = true;
    } else if (res) {
      preferred = res.addressInt;
      preferredOnly = true;
    } else if (ctx.requestedAddress) {
      try {
        const r = ipToInt(ctx.requestedAddress);
        if (isDynamic(subnet, r)) preferred = r;
      } catch {
        preferred = undefined;
      }
    }
    const result = await this.deps.store().allocate({
      subnetId: subnet.id,
      clientId: ctx.clientId,
      mac: ctx.mac,
      hostname: ctx.hostname,
      ranges: subnet.pools,
      exclude: subnet.exclude,
      preferred,
      preferredOnly,
      state: 'offered',
      expiresAt: now + this.deps.options.offerHoldSec * 1000,
      now,
    });
    if (!result.ok && result.reason === 'exhausted') {
      this.deps.metrics.exhausted.inc({ subnet: subnet.id });
      this.deps.logger.warn({ subnet: subnet.id, mac: ctx.mac }, `dhcp: subnet ${subnet.id} (${subnet.cidr}) has no free address; DISCOVER from ${ctx.mac} left unanswered`);
    }
    return result;
  }
}
