import type { FastifyInstance } from 'fastify';
import type { BootEventLog, Clock, Logger, NodeStore, PurebootHooks } from '@pureboot/core';
import type { Registry } from 'prom-client';
import type { BootFlow } from '../boot-flow';
import type { Catalog } from '../catalog';
import type { NodeLifecycle } from '../lifecycle';
import type { BootApiMetrics } from '../metrics';
import type { ClientNetworks } from '../networks';
import type { BootApiOptions } from '../options';
import type { TokenHolder } from '../server';
import type { TimelineRecorder } from '../timeline';

export interface HealthState {
  phase: 'loaded' | 'started' | 'stopping';
  startedAt?: number;
  plugins: string[];
}

/** Everything the route modules share. */
export interface RouteContext {
  app: FastifyInstance;
  options: BootApiOptions;
  flow: BootFlow;
  catalog: Catalog;
  lifecycle: NodeLifecycle;
  nodeStore: NodeStore;
  bootEvents: BootEventLog;
  timeline: TimelineRecorder;
  hooks: PurebootHooks;
  logger: Logger;
  clock: Clock;
  metrics: BootApiMetrics;
  registry: Registry;
  networks: ClientNetworks;
  tokenHolder: TokenHolder;
  health: HealthState;
  /** Absolute path of the PNG logo, when configured. */
  pngLogo?: string;
}

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } },
};

export const macParam = {
  type: 'object',
  required: ['mac'],
  properties: { mac: { type: 'string', maxLength: 17, description: 'MAC address, aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff' } },
};

export const bearerSecurity = [{ bearer: [] }];
