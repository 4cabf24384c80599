import path from 'node:path';
import { asFunction, asValue } from 'awilix';
import { definePlugin, shortName, Stage, type BootEvent, type LeaseStore } from '@pureboot/core';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { bindError } from '@pureboot/core';
import { loadOrCreateToken } from './auth';
import { BootFlow } from './boot-flow';
import { Catalog, findTies } from './catalog';
import { commands } from './cli';
import { NodeLifecycle } from './lifecycle';
import { createMetrics } from './metrics';
import { ClientNetworks } from './networks';
import { optionsSchema, type BootApiOptions } from './options';
import { assetRoutes } from './routes/assets';
import { bootRoutes } from './routes/boot';
import { catalogRoutes } from './routes/catalog';
import type { HealthState, RouteContext } from './routes/context';
import { nodeRoutes } from './routes/nodes';
import { opsRoutes } from './routes/ops';
import { clientAddress, createApp, type TokenHolder } from './server';
import { TimelineRecorder } from './timeline';
import { BootApiError, BootApiErrorCodes } from './errors';
import { CORE_VERSION } from '@pureboot/core';

declare module '@pureboot/core' {
  interface Services {
    /** The boot API's fastify instance: add routes in apply() (declare dependencies: ['boot-api']). */
    http: FastifyInstance;
    /** The lifecycle engine (transitions with compare-and-set, per-state timeouts). */
    nodeLifecycle: NodeLifecycle;
  }
}

export { ipxeInert, ipxeUriComponent, isIpxeWord, lineFragmentProblems } from './ipxe-safe';
export { normaliseMac, hyphenMac } from './mac';
export { normaliseArch } from './arch';
export { TRANSITIONS, TIMEOUT_TARGET, canTransition, NodeLifecycle } from './lifecycle';
export { chainScript } from './chain';
export { BootApiErrorCodes, BootApiError } from './errors';
export type { BootApiOptions } from './options';
export type { ProfileSpec, GroupSpec } from './catalog';

const CATALOG_FILE = 'boot-api-catalog.json';

export default definePlugin<BootApiOptions>({
  name: '@pureboot/plugin-boot-api',
  core: '^0.1.0',
  description: 'HTTP boot API: iPXE scripts by lifecycle state, machine registry, profiles, boot timeline, management API',
  optionsSchema,
  requires: ['nodeStore', 'bootEvents'],

  check({ options }) {
    const warnings: string[] = [];
    if (options.allowedClientNetworks.length === 0 && options.address === '0.0.0.0') warnings.push('boot endpoints answer every client network (set boot-api.allowedClientNetworks to limit them)');
    return warnings;
  },

  register(ctx) {
    const o = ctx.options;
    const netProblems = ClientNetworks.problems(o.allowedClientNetworks);
    if (netProblems.length) throw new BootApiError(BootApiErrorCodes.TEMPLATE, 400, `boot-api.allowedClientNetworks: ${netProblems.join('; ')}`);
    const tokenHolder: TokenHolder = {};
    const app = createApp(o, ctx.logger, tokenHolder);
    tokenHolders.set(app, tokenHolder);
    ctx.provide('http', asValue(app));
    ctx.provide(
      'nodeLifecycle',
      asFunction(({ nodeStore, hooks, clock, logger }) => new NodeLifecycle({ nodeStore, hooks, clock, logger: logger.child({ plugin: 'boot-api' }), timeouts: o.timeouts })).singleton(),
    );
  },

  async apply(ctx) {
    const o = ctx.options;
    const { services, hooks, logger } = ctx;
    const app = services.http;
    const tokenHolder = tokenHolders.get(app) as TokenHolder;
    const registry = services.metrics;
    const metrics = createMetrics(registry);
    const catalog = new Catalog({ profiles: o.profiles, groups: o.groups }, path.join(ctx.config.server.dataDir, CATALOG_FILE));
    const ties = findTies(catalog.listGroups());
    if (ties.length) throw new BootApiError(BootApiErrorCodes.GROUP_TIE, 400, `boot-api.groups: ${ties.join('; ')}`);
    const lifecycle = services.nodeLifecycle;
    lifecycle.observe((from, to) => metrics.transitions.inc({ from: from ?? 'none', to }));
    const timeline = new TimelineRecorder({
      bootEvents: services.bootEvents,
      logger,
      leaseStore: () => {
        try {
          return services.leaseStore as LeaseStore;
        } catch {
          return undefined;
        }
      },
      onPersisted: (ev, attributed) => metrics.bootEvents.inc({ source: ev.source, attributed: String(attributed) }),
      onDropped: (ev, reason) => metrics.bootEventsDropped.inc({ source: ev.source, reason }),
    });
    hooks.bootEvent.tap({ name: 'boot-api:timeline', stage: Stage.BUILTIN }, (ev: BootEvent) => timeline.take(ev));

    const health: HealthState = { phase: 'loaded', plugins: ctx.config.plugins.map((p) => shortName(typeof p === 'string' ? p : p.name)) };
    hooks.started.tap('boot-api', (info) => {
      health.phase = 'started';
      health.startedAt = Date.now();
      health.plugins = info.plugins;
    });
    hooks.stopping.tap('boot-api', () => {
      health.phase = 'stopping';
    });

    const flow = new BootFlow({ options: o, nodeStore: services.nodeStore, hooks, clock: services.clock, logger, catalog, lifecycle, metrics, token: () => tokenHolder.token });
    const networks = new ClientNetworks(o.allowedClientNetworks);
    const c: RouteContext = {
      app,
      options: o,
      flow,
      catalog,
      lifecycle,
      nodeStore: services.nodeStore,
      bootEvents: services.bootEvents,
      timeline,
      hooks,
      logger,
      clock: services.clock,
      metrics,
      registry,
      networks,
      tokenHolder,
      health,
      pngLogo: o.pngLogo ? ctx.resolvePath(o.pngLogo) : undefined,
    };

    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'PureBoot boot API', version: CORE_VERSION, description: 'iPXE scripts by lifecycle state, machine registry, profiles, boot timeline' },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'The API token (boot-api.token, or <dataDir>/boot-api.token)' },
            callbackToken: { type: 'apiKey', in: 'query', name: 'token', description: "The machine's callback token from its install script" },
          },
        },
      },
    });
    if (o.docs) await app.register(swaggerUi, { routePrefix: '/docs' });

    // Only when limited: an unrestricted boot API pays nothing per request.
    if (o.allowedClientNetworks.length > 0) {
      app.addHook('onRequest', (request, reply, done) => {
        if (request.routeOptions.config?.bootEndpoint && !networks.allows(clientAddress(request))) {
          void reply.code(403);
          done(new BootApiError(BootApiErrorCodes.FORBIDDEN_NETWORK, 403, `client ${clientAddress(request)} is not in boot-api.allowedClientNetworks`));
          return;
        }
        done();
      });
    }

    bootRoutes(c);
    assetRoutes(c);
    nodeRoutes(c);
    catalogRoutes(c);
    opsRoutes(c);

    ctx.onStart(async () => {
      const t = loadOrCreateToken(o.token, ctx.config.server.dataDir);
      tokenHolder.token = t.token;
      if (t.generated) {
        logger.warn({ file: t.file }, `generated the boot API token (shown once; also in ${t.file}): ${t.token}`);
      }
      await lifecycle.start();
      try {
        await app.listen({ host: o.address, port: o.port });
      } catch (err) {
        throw bindError(err, { protocol: 'tcp', address: o.address, port: o.port, plugin: 'boot-api' });
      }
      const addr = app.server.address();
      logger.info({ address: addr }, `boot API listening on ${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : String(addr)}`);
    });
    ctx.onStop(async () => {
      lifecycle.stop();
      await app.close();
      await lifecycle.settled();
      await timeline.settled(); // the boot events taken so far reach the store before it closes
    });
  },

  commands,
});

const tokenHolders = new WeakMap<FastifyInstance, TokenHolder>();
export { apiClient, type ApiClient } from './cli';
