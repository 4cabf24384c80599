import { asFunction } from 'awilix';
import { definePlugin, Stage, type BootEvent } from '@pureboot/core';
import { optionsSchema, type TftpOptions } from './options';
import { TftpServer } from './server/server';

declare module '@pureboot/core' {
  interface Services {
    /** The TFTP server (listener address, active transfers, the IP → MAC directory). */
    tftpServer: TftpServer;
  }
}

export * from './codec';
export { TftpServer, type TftpServerDeps } from './server/server';
export { ReadTransfer, type TransferEnd, type TransferTiming } from './server/read-transfer';
export { ClientDirectory, type KnownClient } from './server/client-directory';
export { TftpErrorCodes } from './errors';
export { optionsSchema, DEFAULT_OPTIONS, type TftpOptions, type QuirkRule } from './options';

export default definePlugin<TftpOptions>({
  name: '@pureboot/plugin-tftp',
  core: '^0.1.0',
  description: 'A fast, hardened, read-only TFTP server (RFC 1350/2347/2348/2349/7440) serving files from the fileResolve hook',
  optionsSchema,

  check({ options }) {
    const w: string[] = [];
    if (options.maxTimeoutMs < options.timeoutMs) w.push('tftp.maxTimeoutMs is below tftp.timeoutMs; timeoutMs is used as the cap');
    if (options.blksizeMax > 1468) w.push(`tftp.blksizeMax ${options.blksizeMax} exceeds a 1500-byte Ethernet frame; clients asking for large blocks will see IP fragmentation`);
    return w;
  },

  register(ctx) {
    const options = ctx.options;
    ctx.provide(
      'tftpServer',
      asFunction(({ hooks, logger, metrics, clock }) => new TftpServer({ options, hooks, logger: logger.child({ plugin: 'tftp' }), metrics, clock })).singleton(),
    );
  },

  apply(ctx) {
    const server = ctx.services.tftpServer;
    // Learn client IP → MAC/arch from DHCP and proxy-DHCP acks (a notification observer).
    ctx.hooks.bootEvent.tap({ name: 'tftp:client-directory', stage: Stage.DEFAULT }, (ev: BootEvent) => server.observeBootEvent(ev));
    ctx.onStart(() => server.start());
    ctx.onStop(() => server.stop());
  },
});
