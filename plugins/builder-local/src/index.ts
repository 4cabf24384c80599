import path from 'node:path';
import { asValue } from 'awilix';
import { definePlugin, type IpxeTarget } from '@pureboot/core';
import { LocalBackend } from './local-backend';
import { optionsSchema, type BuilderLocalOptions } from './options';

export { LocalBackend, SAFE_ARG, type LocalBackendOptions } from './local-backend';
export { sourceRevisionOf } from './source-revision';
export type { BuilderLocalOptions } from './options';

/** Default CROSS= prefixes: arm64 targets need a cross compiler on other hosts. */
export function defaultCross(arch: string = process.arch): Partial<Record<IpxeTarget, string>> {
  return arch === 'arm64' ? {} : { 'bin-arm64-efi/snp.efi': 'aarch64-linux-gnu-' };
}

export default definePlugin<BuilderLocalOptions>({
  name: '@pureboot/plugin-builder-local',
  core: '^0.1.0',
  description: "iPXE builder backend that runs iPXE's make in a local source tree (one private copy per build)",
  optionsSchema,
  register(ctx) {
    const o = ctx.options;
    const backend = new LocalBackend(
      {
        sourceDir: path.resolve(ctx.config.meta.dir, o.sourceDir),
        workDir: path.resolve(ctx.config.meta.dir, o.workDir ?? path.join(ctx.config.server.dataDir, 'builder-local')),
        make: o.make,
        jobs: o.jobs,
        revision: o.revision,
        cross: { ...defaultCross(), ...(o.cross as Partial<Record<IpxeTarget, string>>) },
        killGraceMs: o.killGraceMs,
      },
      ctx.logger,
    );
    ctx.provide('builderBackend', asValue(backend));
  },
});
