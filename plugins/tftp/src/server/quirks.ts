import type { QuirkRule } from '../options';
import type { KnownClient } from './client-directory';

/**
 * The first quirk rule that matches a client (every condition the rule states must hold; a rule
 * about MAC, arch or vendor class never matches a client whose MAC is unknown).
 */
export function matchQuirk(rules: QuirkRule[], client: KnownClient | undefined): QuirkRule | undefined {
  for (const r of rules) {
    if (r.macPrefix === undefined && r.arch === undefined && r.vendorClass === undefined) return r;
    if (!client) continue;
    if (r.macPrefix !== undefined && !client.mac.startsWith(r.macPrefix)) continue;
    if (r.arch !== undefined && client.arch !== r.arch) continue;
    if (r.vendorClass !== undefined && !(client.vendorClass ?? '').includes(r.vendorClass)) continue;
    return r;
  }
  return undefined;
}
