import path from 'node:path';
import { definePlugin, Stage } from '@pureboot/core';
import type {} from '@pureboot/plugin-boot-api';
import { ArtifactCache } from './cache';
import { commands } from './cli';
import { IpxeError } from './errors';
import { createResolver } from './file-resolve';
import { parseBuildRequest, parseEmbed } from './inputs';
import { BuildQueue } from './jobs';
import { createMetrics } from './metrics';
import { optionsSchema, type IpxeBuilderOptions } from './options';
import { buildRoutes } from './routes';
import { embeddedScript } from './script';

export { IpxeErrorCodes, IpxeError } from './errors';
export { FEATURES, FEATURE_NAMES, configHeaders, type FeatureName } from './features';
export { parseBuildRequest, parseEmbed, checkServer, EMBED_DEFAULTS, type BuildRequest, type EmbedSpec } from './inputs';
export { embeddedScript, serverUrl } from './script';
export { ArtifactCache, cacheKey } from './cache';
export { BuildQueue, Job, type JobView, type JobStatus } from './jobs';
export { createResolver } from './file-resolve';
export { commands, runBuild, progressBar, logLinesFromSse } from './cli';
export type { IpxeBuilderOptions } from './options';

export default definePlugin<IpxeBuilderOptions>({
  name: '@pureboot/plugin-ipxe-builder',
  core: '^0.1.0',
  description: 'Builds iPXE binaries with an embedded script that finds this server, as cached jobs served to PXE clients through fileResolve',
  optionsSchema,
  dependencies: ['boot-api'],
  requires: ['builderBackend', 'http'],

  check({ options }) {
    const w: string[] = [];
    if (options.autoexec?.enabled && !options.embed?.server) w.push('ipxe-builder.autoexec.enabled needs ipxe-builder.embed.server');
    return w;
  },

  apply(ctx) {
    const o = ctx.options;
    const { services, hooks, logger } = ctx;
    const embedDefaults = o.embed ?? {};
    // Configured values go through the same validation as requests.
    const defaultEmbed = embedDefaults.server !== undefined ? parseEmbed({}, embedDefaults) : undefined;
    const configured = o.builds.map((b) => parseBuildRequest(b, embedDefaults));
    if (o.autoexec.enabled && !defaultEmbed) throw new IpxeError('PB_ERR_IPXE_INVALID_INPUT', 400, 'ipxe-builder.autoexec.enabled needs ipxe-builder.embed.server');
    const cache = new ArtifactCache(path.resolve(ctx.config.meta.dir, ctx.config.server.dataDir));
    const queue = new BuildQueue({
      backend: services.builderBackend,
      cache,
      logger,
      metrics: createMetrics(services.metrics),
      servedPaths: (key, file, name) => [...(name ? [`${o.pathPrefix}/${name}`] : []), `${o.pathPrefix}/${key}/${file}`],
      concurrency: o.concurrency,
      timeoutMs: o.timeoutMs,
      maxQueued: o.maxQueued,
      maxLogLines: o.maxLogLines,
      keepFinished: o.keepFinished,
    });
    queues.set(ctx.name, queue);

    hooks.fileResolve.tapPromise(
      { name: 'ipxe-builder', stage: Stage.DEFAULT },
      createResolver({ cache, pathPrefix: o.pathPrefix, autoexecPaths: o.autoexec.enabled ? o.autoexec.paths : [], autoexec: o.autoexec.enabled && defaultEmbed ? embeddedScript(defaultEmbed) : undefined }),
    );
    buildRoutes({ app: services.http, queue, cache, embedDefaults });

    ctx.onStart(() => {
      if (o.prepareOnStart) {
        // In the background: the first build waits for the same preparation instead of starting it.
        services.builderBackend.prepare((line) => logger.info({ backend: services.builderBackend.name }, line)).catch((err: unknown) => {
          logger.warn({ err, code: (err as { code?: string }).code }, `ipxe-builder: the ${services.builderBackend.name} backend is not ready: ${(err as Error).message}`);
        });
      }
      for (const req of configured) {
        queue.submit(req).then(
          (job) =>
            job.done.then(() => {
              const v = job.view;
              if (v.status === 'succeeded') logger.info({ build: v.id, target: v.target, cached: v.cached, paths: v.artifact?.paths }, `iPXE ${v.target} ready${v.cached ? ' (cached)' : ''}`);
            }),
          (err: unknown) => logger.error({ err, target: req.target }, 'ipxe-builder: a configured build could not be queued'),
        );
      }
    });
    ctx.onStop(() => queue.stop());
  },

  commands,
});

const queues = new Map<string, BuildQueue>();

/** The build queue of a running plugin instance (tests, embedding). */
export function buildQueueOf(pluginName = 'ipxe-builder'): BuildQueue | undefined {
  return queues.get(pluginName);
}
