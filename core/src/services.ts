import type { Registry } from 'prom-client';
import type { Clock } from './clock';
import type { BootEventLog, NodeStore } from './contracts/node-store';
import type { LeaseStore } from './contracts/lease-store';
import type { PurebootHooks } from './hooks/create-hooks';
import type { Logger } from './logger';
import type { ResolvedConfig } from './config/types';

/**
 * The services of the DI container, by well-known name. Core registers the first five; the rest are
 * contracts that plugins provide (a storage plugin provides `leaseStore`, `nodeStore`, `bootEvents`).
 *
 * Plugins add their own services by module augmentation:
 *
 *   declare module '@pureboot/core' {
 *     interface Services { tftpServer: TftpServer }
 *   }
 */
export interface Services {
  config: ResolvedConfig;
  logger: Logger;
  hooks: PurebootHooks;
  clock: Clock;
  /** prom-client registry that every plugin adds its metrics to (served by the boot-api's /metrics). */
  metrics: Registry;
  leaseStore: LeaseStore;
  nodeStore: NodeStore;
  bootEvents: BootEventLog;
  builderBackend: import('./contracts/builder-backend').BuilderBackend;
}

export type ServiceName = keyof Services & string;

/** Contract services and a package that provides each, for "nobody provides X" hints. */
export const CONTRACT_PROVIDERS: Record<string, string> = {
  leaseStore: '@pureboot/plugin-storage-file',
  nodeStore: '@pureboot/plugin-storage-file',
  bootEvents: '@pureboot/plugin-storage-file',
  builderBackend: '@pureboot/plugin-builder-docker',
  http: '@pureboot/plugin-boot-api',
};
