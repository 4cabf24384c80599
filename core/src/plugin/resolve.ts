import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { ConfigError, CoreErrorCodes, PurebootError } from '../errors';
import { CORE_VERSION } from '../version';
import { shortName, type PluginDefinition } from './definition';

export interface ResolvedPlugin {
  /** How the config named it. */
  spec: string;
  /** Short name: the config key of its options and the name dependencies use. */
  key: string;
  definition: PluginDefinition<unknown>;
  /** Absolute path of the module that was loaded. */
  modulePath: string;
  packageName?: string;
  packageVersion?: string;
}

/** Candidate module ids for a plugin spec, in the order they are tried. */
export function pluginCandidates(spec: string): string[] {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return [spec];
  if (spec.startsWith('@') || spec.includes('/')) return [spec];
  return [`@pureboot/plugin-${spec}`, `pureboot-plugin-${spec}`, spec];
}

/**
 * Load a plugin by short name, package name or path. Looks in the config file's folder, then the
 * working directory, then next to @pureboot/core.
 */
export function resolvePlugin(spec: string, opts: { configDir: string; cwd: string; file?: string }): ResolvedPlugin {
  const where = opts.file ?? 'inline config';
  const searchPaths = [opts.configDir, opts.cwd, path.resolve(__dirname, '..', '..')];
  let resolved: string | undefined;
  let packageName: string | undefined;
  for (const candidate of pluginCandidates(spec)) {
    try {
      resolved =
        candidate.startsWith('.') || path.isAbsolute(candidate)
          ? require.resolve(path.resolve(opts.configDir, candidate))
          : require.resolve(candidate, { paths: searchPaths });
      packageName = candidate.startsWith('.') || path.isAbsolute(candidate) ? undefined : candidate;
      break;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(`'${candidate.startsWith('.') ? path.resolve(opts.configDir, candidate) : candidate}'`)) {
        throw new PurebootError(CoreErrorCodes.PLUGIN_LOAD, `${where}: plugin "${spec}" (${candidate}) was found but could not be loaded: ${e.message}`, { spec }, { cause: err });
      }
    }
  }
  if (!resolved) {
    const pkg = pluginCandidates(spec)[0];
    const hint = spec.startsWith('.') || path.isAbsolute(spec) ? `no such file: ${path.resolve(opts.configDir, spec)}` : `install it: npm install ${pkg}`;
    throw new ConfigError(CoreErrorCodes.PLUGIN_NOT_FOUND, `${where}: plugins: plugin "${spec}" is not installed (${hint})`, [], { spec, file: opts.file });
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(resolved);
  } catch (err) {
    throw new PurebootError(CoreErrorCodes.PLUGIN_LOAD, `${where}: plugin "${spec}" failed while loading ${resolved}: ${(err as Error).message}`, { spec }, { cause: err });
  }
  const definition = pickDefinition(mod);
  const problems = checkShape(definition);
  if (problems.length > 0) {
    throw new PurebootError(CoreErrorCodes.PLUGIN_INVALID, `plugin "${spec}" (${resolved}) does not export a valid plugin definition: ${problems.join('; ')}`, { spec, problems });
  }
  const def = definition as PluginDefinition<unknown>;
  if (!semver.satisfies(CORE_VERSION, def.core, { includePrerelease: true })) {
    throw new PurebootError(
      CoreErrorCodes.PLUGIN_CORE_VERSION,
      `plugin "${def.name}" supports @pureboot/core ${def.core}, but this is @pureboot/core ${CORE_VERSION}; install a matching version of the plugin or of core`,
      { plugin: def.name, range: def.core, core: CORE_VERSION },
    );
  }
  const pkgInfo = findPackageJson(resolved);
  return {
    spec,
    key: shortName(def.name),
    definition: def,
    modulePath: resolved,
    packageName: pkgInfo?.name ?? packageName,
    packageVersion: pkgInfo?.version,
  };
}

function pickDefinition(mod: unknown): unknown {
  if (mod && typeof mod === 'object') {
    const m = mod as Record<string, unknown>;
    if (m.default && typeof m.default === 'object' && 'name' in (m.default as object)) return m.default;
    if (m.plugin && typeof m.plugin === 'object') return m.plugin;
  }
  return mod;
}

function checkShape(def: unknown): string[] {
  const problems: string[] = [];
  if (!def || typeof def !== 'object') return ['the module exports no object'];
  const d = def as Record<string, unknown>;
  if (typeof d.name !== 'string' || !d.name) problems.push('"name" must be a non-empty string');
  if (typeof d.core !== 'string' || semver.validRange(d.core) === null) problems.push('"core" must be a semver range of supported @pureboot/core versions');
  if (d.optionsSchema !== undefined && (typeof d.optionsSchema !== 'object' || d.optionsSchema === null)) problems.push('"optionsSchema" must be a JSON schema object');
  if (d.dependencies !== undefined && (!Array.isArray(d.dependencies) || d.dependencies.some((x) => typeof x !== 'string'))) problems.push('"dependencies" must be a list of plugin names');
  if (d.requires !== undefined && (!Array.isArray(d.requires) || d.requires.some((x) => typeof x !== 'string'))) problems.push('"requires" must be a list of service names');
  for (const fn of ['register', 'apply', 'check']) if (d[fn] !== undefined && typeof d[fn] !== 'function') problems.push(`"${fn}" must be a function`);
  if (d.commands !== undefined && !Array.isArray(d.commands)) problems.push('"commands" must be a list');
  return problems;
}

function findPackageJson(file: string): { name?: string; version?: string } | undefined {
  let dir = path.dirname(file);
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      try {
        return JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      } catch {
        return undefined;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
