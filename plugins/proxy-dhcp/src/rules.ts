import type { PxeClientInfo } from '@pureboot/core';
import type { ClientRule } from './options';

function macHex(mac: string): string {
  return mac.replace(/[:-]/g, '').toLowerCase();
}

/** The first rule whose every `match` field fits the client, or undefined. */
export function matchRule(rules: readonly ClientRule[], client: { mac: string; pxe: PxeClientInfo }): ClientRule | undefined {
  const mac = macHex(client.mac);
  return rules.find((r) => {
    const m = r.match;
    if (m.macPrefix !== undefined && !mac.startsWith(macHex(m.macPrefix))) return false;
    if (m.vendorClass !== undefined && !(client.pxe.vendorClass ?? '').startsWith(m.vendorClass)) return false;
    if (m.arch !== undefined) {
      if (typeof m.arch === 'number' ? client.pxe.arch !== m.arch : client.pxe.archName !== m.arch) return false;
    }
    return true;
  });
}
