import { ConfigError, CoreErrorCodes } from '../errors';
import { shortName } from './definition';
import type { ResolvedPlugin } from './resolve';

/**
 * Order plugins so that each comes after its dependencies, keeping the config's order otherwise.
 * Missing dependencies, duplicates and cycles are config errors naming the plugins involved.
 */
export function orderPlugins(plugins: ResolvedPlugin[], file?: string): ResolvedPlugin[] {
  const where = file ?? 'inline config';
  const byKey = new Map<string, ResolvedPlugin>();
  for (const p of plugins) {
    const existing = byKey.get(p.key);
    if (existing) {
      throw new ConfigError(CoreErrorCodes.PLUGIN_DUPLICATE, `${where}: plugins: "${p.key}" is listed twice ("${existing.spec}" and "${p.spec}")`, [], { plugin: p.key });
    }
    byKey.set(p.key, p);
  }
  for (const p of plugins) {
    for (const dep of p.definition.dependencies ?? []) {
      if (!byKey.has(shortName(dep))) {
        throw new ConfigError(
          CoreErrorCodes.PLUGIN_DEPENDENCY,
          `${where}: plugins: plugin "${p.key}" depends on plugin "${shortName(dep)}", which is not in plugins — add "${shortName(dep)}" to plugins (and npm install @pureboot/plugin-${shortName(dep)} if needed)`,
          [],
          { plugin: p.key, dependency: shortName(dep) },
        );
      }
    }
  }
  const ordered: ResolvedPlugin[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: ResolvedPlugin, trail: string[]): void => {
    const s = state.get(p.key);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(p.key)), p.key].join(' → ');
      throw new ConfigError(CoreErrorCodes.PLUGIN_CYCLE, `${where}: plugins: dependency cycle ${cycle}`, [], { cycle });
    }
    state.set(p.key, 'visiting');
    for (const dep of p.definition.dependencies ?? []) visit(byKey.get(shortName(dep)) as ResolvedPlugin, [...trail, p.key]);
    state.set(p.key, 'done');
    ordered.push(p);
  };
  for (const p of plugins) visit(p, []);
  return ordered;
}
