import { definePlugin, Stage, type BootEvent, type LeaseStore } from '@pureboot/core';
import { DhcpCodecError, DhcpErrorCodes } from './codec/errors';
import { leaseRoutes, type RouteApp } from './api/routes';
import { commands } from './cli';
import { createMetrics } from './metrics';
import { optionsSchema, type DhcpPluginOptions } from './options';
import { ALLOCATOR_TAP } from './server/allocator';
import { DhcpServer } from './server/dhcp-server';
import { SubnetTable } from './server/subnets';
import { UdpTransport } from './transport/udp';

export * as codec from './codec';
export { parseDhcpPacket, serializeDhcpPacket, getOption, setOption, pxeClientInfo, DhcpCodecError, DhcpErrorCodes, type DhcpPacket } from './codec';
export { selectBootFile, scriptUrl, type BootChoice, type BootChoiceInput } from './pxe/boot-file';
export { DhcpServer } from './server/dhcp-server';
export { SubnetTable } from './server/subnets';
export { UdpTransport } from './transport/udp';
export { leaseView, type LeaseView } from './api/lease-view';
export { bindToDevice, inNetns } from './transport/native';
export type { DhcpPluginOptions, PxeOptions, SubnetOptions, ListenOptions, ReservationOptions, IpxeDetection } from './options';
export { optionsSchema };


/** Options the plugin accepts at runtime on top of its schema (tests): open sockets in a netns. */
export interface DhcpRuntimeOptions extends DhcpPluginOptions {
  netns?: string;
}

export const plugin = definePlugin<DhcpRuntimeOptions>({
  name: '@pureboot/plugin-dhcp',
  core: '^0.1.0',
  description: 'A full DHCPv4 server with PXE intelligence, deciding through the leaseDecision hook',
  optionsSchema: { ...optionsSchema, properties: { ...(optionsSchema.properties as object), netns: { type: 'string', minLength: 1 } } },
  requires: ['leaseStore'],
  commands,
  check(ctx) {
    const warnings: string[] = [];
    if (ctx.options.subnets.length > 0 && ctx.options.listen.length === 0) warnings.push('dhcp: subnets are configured but dhcp.listen is empty: nothing will be served');
    if (ctx.plugins.includes('proxy-dhcp') && ctx.options.listen.length > 0) warnings.push('dhcp and proxy-dhcp both listen on port 67: run them on different interfaces');
    return warnings;
  },
  apply(ctx) {
    const o = ctx.options;
    const subnets = new SubnetTable(o);
    if (subnets.subnets.length > 0 && o.listen.length === 0) {
      throw new DhcpCodecError(DhcpErrorCodes.CONFIG, 'dhcp: subnets are configured but dhcp.listen is empty: add { interface, address } for each served link');
    }
    for (const l of o.listen) {
      if (!subnets.forAddress(l.address) && subnets.subnets.length > 0) ctx.logger.warn({ address: l.address }, `dhcp: no subnet contains listen address ${l.address}; only relayed requests will be answered there`);
    }
    const metrics = createMetrics(ctx.services.metrics);
    const transport = new UdpTransport({ listen: o.listen, port: o.port, netns: o.netns, plugin: 'dhcp' });
    const server = new DhcpServer({
      hooks: ctx.hooks,
      store: () => ctx.services.leaseStore as LeaseStore,
      clock: ctx.services.clock,
      logger: ctx.logger,
      metrics,
      options: o,
      subnets,
      send: (listen, data, to) => transport.send(listen, data, to),
    });
    servers.set(ctx.hooks, server);
    ctx.hooks.leaseDecision.tapPromise({ name: ALLOCATOR_TAP, stage: Stage.BUILTIN }, (c) => server.allocator.decide(c));
    // Only 'after-tftp' needs to watch the boot timeline (an unused hook costs nothing per packet).
    if (o.pxe.enabled && o.pxe.ipxeDetection === 'after-tftp') {
      ctx.hooks.bootEvent.tap('dhcp:after-tftp', (ev: BootEvent) => {
        if (ev.kind === 'tftp.done' && ev.mac) server.noteTftpDone(ev.mac.toLowerCase());
      });
    }
    // Lease routes on the boot API when it is part of this deployment (`pureboot leases …` uses them).
    let http: RouteApp | undefined;
    try {
      http = (ctx.services as unknown as Record<string, unknown>).http as RouteApp | undefined;
    } catch {
      http = undefined;
    }
    if (http) leaseRoutes(http, { store: () => ctx.services.leaseStore as LeaseStore, clock: ctx.services.clock, hooks: ctx.hooks, logger: ctx.logger });
    let timer: ReturnType<typeof ctx.services.clock.setInterval> | undefined;
    ctx.onStart(async () => {
      if (o.listen.length === 0) return;
      await transport.start((m) => void server.handle(m));
      timer = ctx.services.clock.setInterval(() => {
        server.reclaim().catch((err: unknown) => ctx.logger.error({ err }, 'dhcp: lease reclamation failed'));
      }, o.reclaimIntervalSec * 1000);
      (timer as { unref?: () => unknown }).unref?.();
      ctx.logger.info({ listen: o.listen, subnets: subnets.subnets.map((s) => s.cidr) }, 'dhcp: serving');
    });
    ctx.onStop(async () => {
      if (timer !== undefined) ctx.services.clock.clearInterval(timer);
      await transport.stop();
      await server.idle();
    });
  },
});

const servers = new WeakMap<object, DhcpServer>();

/** The DHCP server a PureBoot instance runs (keyed by its hooks object), for tests and the CLI. */
export function dhcpServerOf(hooks: object): DhcpServer | undefined {
  return servers.get(hooks);
}

export default plugin;
