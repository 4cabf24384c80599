import path from 'node:path';
import { asValue } from 'awilix';
import { definePlugin, type IpxeTarget } from '@pureboot/core';
import { DockerBackend } from './docker-backend';
import { optionsSchema, type BuilderDockerOptions } from './options';

export { DockerBackend, BUILD_LABEL, type DockerBackendOptions } from './docker-backend';
export type { BuilderDockerOptions } from './options';

/** The Dockerfile folder this package ships (builds real iPXE at a pinned revision). */
export const SHIPPED_BUILD_CONTEXT = path.resolve(__dirname, '..', 'docker');

/** DOCKER_HOST when it names a unix socket, else Docker's default socket. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.DOCKER_HOST;
  return h && h.startsWith('unix://') ? h.slice('unix://'.length) : '/var/run/docker.sock';
}

const backends = new WeakMap<object, DockerBackend>();

export default definePlugin<BuilderDockerOptions>({
  name: '@pureboot/plugin-builder-docker',
  core: '^0.1.0',
  description: 'iPXE builder backend: one Docker container per build from an image that clones iPXE at a pinned revision',
  optionsSchema,
  register(ctx) {
    const o = ctx.options;
    const dataDir = path.resolve(ctx.config.meta.dir, ctx.config.server.dataDir);
    const backend = new DockerBackend(
      {
        socketPath: o.socketPath ?? defaultSocketPath(),
        image: o.image,
        ipxeRepo: o.ipxeRepo,
        ipxeRevision: o.ipxeRevision,
        buildContext: o.buildContext ? path.resolve(ctx.config.meta.dir, o.buildContext) : SHIPPED_BUILD_CONTEXT,
        srcPath: o.srcPath,
        workDir: o.workDir ? path.resolve(ctx.config.meta.dir, o.workDir) : path.join(dataDir, 'builder-docker'),
        jobs: o.jobs,
        cross: o.cross as Partial<Record<IpxeTarget, string>>,
        memoryMb: o.memoryMb,
      },
      ctx.logger,
    );
    backends.set(ctx.config, backend);
    ctx.provide('builderBackend', asValue(backend));
  },
  apply(ctx) {
    const backend = backends.get(ctx.config);
    ctx.onStart(async () => {
      // Containers of builds a crash interrupted; an unreachable engine is reported by the first build.
      await backend?.removeLeftovers().catch((err: unknown) => ctx.logger.warn({ err }, 'builder-docker: the Docker engine does not answer yet'));
    });
  },
});
