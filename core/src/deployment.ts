import path from 'node:path';
import { ConfigError, CoreErrorCodes } from './errors';
import { envOverrides, setPath } from './config/env';
import { loadRawConfig } from './config/load';
import { buildConfigSchema, validateConfig } from './config/validate';
import type { ConfigMeta, PluginEntry, ResolvedConfig } from './config/types';
import { coreSchemaProperties } from './config/core-schema';
import { orderPlugins } from './plugin/order';
import { resolvePlugin, type ResolvedPlugin } from './plugin/resolve';
import type { JsonSchema } from './plugin/definition';

export interface DeploymentOptions {
  /** `--config FILE`: load this file, no search. */
  configFile?: string;
  /** An inline config instead of a file (tests, generated quick-start configs). */
  config?: Record<string, unknown>;
  /** Folder that relative paths of an inline config resolve against (default: cwd). */
  configDir?: string;
  cwd?: string;
  /** Environment for PUREBOOT_… overrides (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Values set on top of the file (CLI flags), before validation. */
  overrides?: Array<{ path: string[]; value: unknown }>;
}

export interface Deployment {
  config: ResolvedConfig;
  /** Plugins in start order (dependencies first). */
  plugins: ResolvedPlugin[];
  /** The combined JSON schema the config was validated against. */
  schema: JsonSchema;
}

/** Find, parse, override, resolve plugins for, and validate a deployment's configuration. */
export async function loadDeployment(opts: DeploymentOptions = {}): Promise<Deployment> {
  const cwd = opts.cwd ?? process.cwd();
  const raw = opts.config
    ? { data: structuredClone(opts.config), file: undefined, dir: path.resolve(cwd, opts.configDir ?? '.') }
    : await loadRawConfig({ configFile: opts.configFile, cwd });
  const data = raw.data;
  const fromEnv: Record<string, string> = {};
  for (const o of envOverrides(opts.env ?? process.env)) {
    setPath(data, o.path, o.value);
    fromEnv[o.path.join('.')] = o.variable;
  }
  for (const o of opts.overrides ?? []) setPath(data, o.path, o.value);

  // First pass: only the plugin list, so that it can be trusted; everything else is checked once the
  // plugins' schemas are known, so that all problems are reported together.
  const pluginsOnly: Record<string, unknown> = 'plugins' in data ? { plugins: structuredClone(data.plugins) } : {};
  validateConfig(pluginsOnly, { type: 'object', properties: { plugins: coreSchemaProperties.plugins } }, { file: raw.file, fromEnv });

  const entries = (pluginsOnly.plugins as PluginEntry[]).filter((e) => typeof e === 'string' || e.enabled !== false);
  const specs = entries.map((e) => (typeof e === 'string' ? e : e.name));
  const resolved = specs.map((spec) => resolvePlugin(spec, { configDir: raw.dir, cwd, file: raw.file }));
  const ordered = orderPlugins(resolved, raw.file);
  const schema = buildConfigSchema(ordered.map((p) => ({ key: p.key, schema: p.definition.optionsSchema ?? { type: 'object', additionalProperties: false } })));
  validateConfig(data, schema, { file: raw.file, fromEnv });

  const server = data.server as { dataDir: string };
  const files = data.files as { root: string };
  server.dataDir = path.resolve(raw.dir, server.dataDir);
  files.root = path.resolve(raw.dir, files.root);
  const meta: ConfigMeta = { file: raw.file, dir: raw.dir, fromEnv };
  Object.defineProperty(data, 'meta', { value: meta, enumerable: false });

  for (const [service, plugin] of Object.entries(data.services as Record<string, string>)) {
    if (!ordered.some((p) => p.key === plugin)) {
      throw new ConfigError(CoreErrorCodes.SERVICE_CHOICE, `${raw.file ?? 'inline config'}: services.${service}: "${plugin}" is not a loaded plugin (loaded: ${ordered.map((p) => p.key).join(', ') || 'none'})`);
    }
  }
  return { config: data as unknown as ResolvedConfig, plugins: ordered, schema };
}
