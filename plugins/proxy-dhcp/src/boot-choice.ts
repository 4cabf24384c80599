import type { PxeClientInfo } from '@pureboot/core';
import type { ClientRule, ProxyDhcpOptions, UefiStrategy } from './options';
import { codec } from '@pureboot/plugin-dhcp';

const { encodePxeVendorOptions } = codec;

/** Discovery control bits of PXE option 43 sub-option 6 (PXE 2.1 §2.4.2.1). */
export const Discovery = Object.freeze({
  NO_BROADCAST: 1,
  NO_MULTICAST: 2,
  ONLY_LISTED_SERVERS: 4,
  /** Boot the file named in the answer at once: no menu, no boot server discovery. */
  USE_BOOT_FILE: 8,
} as const);

/** The options with every address and port settled (at start). */
export interface ResolvedProxyOptions extends ProxyDhcpOptions {
  serverAddress: string;
  tftpServer: string;
  httpPort: number;
  /** Destination of broadcast answers (255.255.255.255 unless configured). */
  broadcast: string;
}

export interface BootChoiceInput {
  mac: string;
  messageType: 'DISCOVER' | 'REQUEST' | 'INFORM';
  pxe: PxeClientInfo;
  rule?: ClientRule;
  /** after-tftp: the TFTP plugin reported tftp.done for this MAC recently. */
  tftpDone: boolean;
  /** Sub-option 71 of the client's option 43 (a menu choice, on 4011). */
  bootItem?: { type: number; layer: number };
}

export type BootChoice =
  | {
      action: 'answer';
      /** Undefined: the answer names no file (boot-server strategy offer, menu offer). */
      bootFile?: string;
      nextServer: string;
      /** Option 43 payload, or null to send none. */
      vendor: Buffer | null;
      kind: 'binary' | 'script' | 'http' | 'menu' | 'boot-server';
      strategy: UefiStrategy | 'menu' | 'ipxe' | 'http';
    }
  | { action: 'ignore'; reason: string };

/** Fill `{server}`, `{httpPort}` and `{mac}` (or `${server}` … as the DHCP plugin writes them) in a boot file name or URL. */
export function fillTemplate(s: string, o: ResolvedProxyOptions, mac: string): string {
  return s.replace(/\$?\{(server|httpPort|mac)\}/g, (_m, k: string) => (k === 'server' ? o.serverAddress : k === 'httpPort' ? String(o.httpPort) : mac));
}

const BOOT_FROM_OFFER = (): Buffer => encodePxeVendorOptions({ discoveryControl: Discovery.USE_BOOT_FILE });

/**
 * The proxy's built-in answer for one PXE client: which file (or URL) and which option 43, by
 * architecture, iPXE detection policy, client rule, UEFI strategy and boot menu. Pure.
 */
export function chooseBoot(input: BootChoiceInput, o: ResolvedProxyOptions): BootChoice {
  const { pxe, rule, messageType } = input;
  if (rule?.ignore) return { action: 'ignore', reason: `client rule ${rule.name ?? JSON.stringify(rule.match)} says ignore` };
  const next = o.tftpServer;
  const ipxeReady = pxe.isIpxe && (o.ipxeDetection === 'user-class' || input.tftpDone);
  if (ipxeReady) {
    return { action: 'answer', bootFile: fillTemplate(o.scriptUrl, o, input.mac), nextServer: next, vendor: BOOT_FROM_OFFER(), kind: 'script', strategy: 'ipxe' };
  }
  const mapped = rule?.bootFile ?? o.bootFiles[pxe.archName];
  if (!mapped) return { action: 'ignore', reason: `no boot file for architecture ${pxe.archName}${pxe.arch !== undefined ? ` (${pxe.arch})` : ''}` };
  const file = fillTemplate(mapped, o, input.mac);
  if (pxe.isHttpBoot) return { action: 'answer', bootFile: file, nextServer: next, vendor: null, kind: 'http', strategy: 'http' };

  if (o.menu && pxe.archName === 'bios' && !pxe.isIpxe) {
    if (messageType === 'DISCOVER') {
      const items = o.menu.items;
      const vendor = encodePxeVendorOptions({
        discoveryControl: Discovery.NO_BROADCAST | Discovery.NO_MULTICAST,
        bootServers: items.filter((i) => i.type !== 0).map((i) => ({ type: i.type, addresses: [o.serverAddress] })),
        menu: items.map((i) => ({ type: i.type, description: i.description })),
        prompt: { timeout: o.menu.timeoutSec, text: o.menu.prompt },
      });
      return { action: 'answer', bootFile: undefined, nextServer: next, vendor, kind: 'menu', strategy: 'menu' };
    }
    const item = input.bootItem ? o.menu.items.find((i) => i.type === input.bootItem?.type) : undefined;
    if (input.bootItem && !item) return { action: 'ignore', reason: `boot item ${input.bootItem.type} is not in the menu` };
    const chosen = item?.bootFile ? fillTemplate(item.bootFile, o, input.mac) : file;
    const vendor = encodePxeVendorOptions(input.bootItem ? { bootItem: input.bootItem } : { discoveryControl: Discovery.USE_BOOT_FILE });
    return { action: 'answer', bootFile: chosen, nextServer: next, vendor, kind: 'binary', strategy: 'menu' };
  }

  const strategy = pxe.archName.startsWith('uefi-') ? (rule?.uefiStrategy ?? o.uefiStrategy) : 'discovery-control';
  if (strategy === 'boot-server') {
    // Pixiecore's way: the offer names no file and carries no option 43, so the firmware asks the
    // boot server (this proxy, port 4011), whose ACK names the file.
    if (messageType === 'DISCOVER') return { action: 'answer', bootFile: undefined, nextServer: next, vendor: null, kind: 'boot-server', strategy };
    return { action: 'answer', bootFile: file, nextServer: next, vendor: null, kind: 'binary', strategy };
  }
  return { action: 'answer', bootFile: file, nextServer: next, vendor: BOOT_FROM_OFFER(), kind: 'binary', strategy };
}
