import { definePlugin, Stage, type BootEvent } from '@pureboot/core';
import type { ResolvedProxyOptions } from './boot-choice';
import { ProxyDhcpHandler, BUILTIN_TAP } from './handler';
import { TftpDoneTracker } from './ipxe-tracker';
import { createProxyMetrics } from './metrics';
import { optionsSchema, type ProxyDhcpOptions } from './options';
import { resolveServerAddress } from './server-address';
import { ProxyDhcpServer } from './server';
import { dhcpInterfaces, dhcpServesPxe } from './check';

export { ProxyDhcpErrorCodes, ProxyDhcpError } from './errors';
export { chooseBoot, fillTemplate, Discovery, type BootChoice, type ResolvedProxyOptions } from './boot-choice';
export { buildProxyReply, type ProxyReplySpec } from './reply';
export { ProxyDhcpHandler, BUILTIN_TAP, type ProxyAnswer, type ProxyPort } from './handler';
export { ProxyDhcpServer } from './server';
export { TftpDoneTracker } from './ipxe-tracker';
export { matchRule } from './rules';
export { optionsSchema, DEFAULT_BOOT_FILES } from './options';
export type { ProxyDhcpOptions, ClientRule, BootMenu, MenuItem, UefiStrategy, IpxeDetection } from './options';

export default definePlugin<ProxyDhcpOptions>({
  name: '@pureboot/plugin-proxy-dhcp',
  core: '^0.1.0',
  description: 'Proxy DHCP (ports 67 and 4011): boot information for PXE clients beside an existing DHCP server',
  optionsSchema,

  check({ options, config, plugins }) {
    // Full DHCP without PXE answers beside the proxy is a valid pairing (addresses there, boot info here).
    if (!plugins.includes('dhcp') || !dhcpServesPxe(config['dhcp'])) return [];
    const theirs = dhcpInterfaces(config['dhcp']);
    if (!options.interface || theirs.length === 0 || theirs.includes(options.interface)) {
      return [
        `proxy-dhcp and dhcp are both enabled${options.interface ? ` on interface ${options.interface}` : ' without proxy-dhcp.interface'}: PXE clients get two boot answers there. Use one of them per interface.`,
      ];
    }
    return [];
  },

  apply(ctx) {
    const o = ctx.options;
    const { hooks, services, logger } = ctx;
    const log = logger;
    const metrics = createProxyMetrics(services.metrics);
    const now = () => services.clock.now();
    const tracker = new TftpDoneTracker(o.afterTftpWindowSec * 1000);
    let handler: ProxyDhcpHandler | undefined;
    let server: ProxyDhcpServer | undefined;

    hooks.leaseDecision.tap({ name: BUILTIN_TAP, stage: Stage.BUILTIN }, (c) => handler?.builtinDecision(c));
    if (o.ipxeDetection === 'after-tftp') {
      hooks.bootEvent.tap('proxy-dhcp:after-tftp', (ev: BootEvent) => {
        if (ev.kind === 'tftp.done') tracker.markDone(ev.at, ev.mac, ev.address);
      });
    }

    ctx.onStart(async () => {
      const bootApi = ctx.config['boot-api'] as { port?: number } | undefined;
      const serverAddress = resolveServerAddress(o);
      const resolved: ResolvedProxyOptions = { ...o, serverAddress, tftpServer: o.tftpServer ?? serverAddress, httpPort: o.httpPort ?? bootApi?.port ?? 8080, broadcast: o.broadcastAddress ?? '255.255.255.255' };
      handler = new ProxyDhcpHandler({ hooks, logger: log, metrics, now, options: resolved, tracker });
      server = new ProxyDhcpServer(handler, { address: o.address, port: o.port, bootServerPort: o.bootServerPort, interface: o.interface, serverAddress }, log);
      await server.start();
      log.info({ serverAddress, broadcast: resolved.broadcast, tftpServer: resolved.tftpServer, ipxeDetection: o.ipxeDetection, uefiStrategy: o.uefiStrategy }, 'proxy DHCP answers PXE clients only');
    });
    ctx.onStop(async () => {
      await server?.stop();
      server = undefined;
    });
  },
});
