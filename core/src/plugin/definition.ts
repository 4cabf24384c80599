import type { Resolver } from 'awilix';
import type { Logger } from '../logger';
import type { PurebootHooks } from '../hooks/create-hooks';
import type { ResolvedConfig } from '../config/types';
import type { Services } from '../services';

/** A JSON schema object (draft-07, as ajv validates it). */
export type JsonSchema = Record<string, unknown>;

export interface RegisterContext<O> {
  /** This plugin's validated options (defaults applied). */
  options: O;
  config: ResolvedConfig;
  logger: Logger;
  /**
   * Add a service to the container. Two plugins providing the same name is an error naming both,
   * unless `services.<name>` in the config picks one.
   */
  provide<K extends string>(name: K, resolver: Resolver<K extends keyof Services ? Services[K] : unknown>): void;
}

export interface ApplyContext<O> {
  name: string;
  options: O;
  config: ResolvedConfig;
  hooks: PurebootHooks;
  /** The container's cradle: services are resolved lazily on first use. */
  services: Services;
  logger: Logger;
  /** Resolve a path from the config the way core does (relative to the config file's folder). */
  resolvePath(p: string): string;
  /** Run when PureBoot starts, in plugin dependency order (open sockets here, not in apply). */
  onStart(fn: () => Promise<void> | void): void;
  /** Run when PureBoot stops, in reverse dependency order, within the shutdown grace period. */
  onStop(fn: () => Promise<void> | void): void;
}

export interface CheckContext<O> {
  options: O;
  config: ResolvedConfig;
  /** Names (short) of all plugins in this deployment. */
  plugins: string[];
}

/** A CLI command a plugin adds to `pureboot` (e.g. `leases list`). */
export interface PluginCommand {
  /** Space-separated command path, e.g. "leases list". */
  name: string;
  description: string;
  /** Positional arguments in commander syntax, e.g. "<mac>". */
  args?: string;
  /** Options in commander syntax: [flags, description, default?]. */
  flags?: Array<[string, string, string?]>;
  run(ctx: CommandContext): Promise<number | void>;
}

export interface CommandContext {
  args: string[];
  flags: Record<string, unknown>;
  config: ResolvedConfig;
  /** The plugin's options. */
  options: unknown;
  /** Write a line to stdout. */
  print(line: string): void;
}

/**
 * What a plugin package exports (as `default`, `plugin`, or the module itself).
 * See docs/writing-a-plugin.md.
 */
export interface PluginDefinition<O = Record<string, unknown>> {
  /** Package name (`@pureboot/plugin-tftp`) or any unique name for a local plugin. */
  name: string;
  /** The range of @pureboot/core versions this plugin works with (semver). */
  core: string;
  description?: string;
  /** JSON schema of the plugin's options, found in the config under the plugin's short name. */
  optionsSchema?: JsonSchema;
  /** Short or full names of plugins that must be loaded (and start) before this one. */
  dependencies?: string[];
  /** Service names this plugin needs from others; checked after registration. */
  requires?: string[];
  register?(ctx: RegisterContext<O>): void;
  apply?(ctx: ApplyContext<O>): void | Promise<void>;
  /** Warnings for `pureboot config check` and startup (e.g. conflicting settings across plugins). */
  check?(ctx: CheckContext<O>): string[];
  commands?: PluginCommand[];
}

/** Identity helper that gives a plugin definition its types. */
export function definePlugin<O = Record<string, unknown>>(def: PluginDefinition<O>): PluginDefinition<O> {
  return def;
}

/** `@pureboot/plugin-tftp` → `tftp`, `pureboot-plugin-x` → `x`, anything else unchanged. */
export function shortName(name: string): string {
  const m = /^(?:@pureboot\/plugin-|pureboot-plugin-)(.+)$/.exec(name);
  if (m) return m[1];
  const scoped = /^@[^/]+\/(?:pureboot-plugin-)?(.+)$/.exec(name);
  return scoped ? scoped[1] : name;
}
