import type { PxeClientInfo } from '@pureboot/core';
import type { PxeOptions } from '../options';

export interface BootChoice {
  /** File name (TFTP path) or URL for option 67 / the file field. */
  bootFile: string;
  /** What kind of answer this is: the iPXE binary, the iPXE script URL, or an HTTP-boot URL. */
  kind: 'binary' | 'script' | 'http';
  /** Option 60 to echo (PXEClient / HTTPClient), RFC 4578 §2.1 and UEFI HTTP boot. */
  vendorClass?: string;
}

export interface BootChoiceInput {
  pxe: PxeClientInfo;
  mac: string;
  /** The address the client reaches this server at (server identifier). */
  serverAddress: string;
  /** 'after-tftp' mode: whether the TFTP plugin reported tftp.done for this MAC. */
  tftpDone?: boolean;
}

export function scriptUrl(opts: PxeOptions, serverAddress: string, mac: string): string {
  if (opts.scriptUrl) return opts.scriptUrl.replace(/\$\{mac\}/g, mac).replace(/\$\{server\}/g, serverAddress);
  return `http://${serverAddress}:${opts.httpPort}/boot/${mac}`;
}

/**
 * The PXE boot-file decision (shared with the proxy-DHCP plugin): the boot API's script URL for an
 * iPXE client (user class `iPXE` / option 175 — or, with ipxeDetection 'after-tftp', only once the
 * stage-1 binary was fetched), an HTTP URL for UEFI HTTP boot, else the binary for the firmware's
 * architecture. Undefined for clients that are not PXE/iPXE/HTTP-boot, or an unmapped architecture.
 */
export function selectBootFile(opts: PxeOptions, input: BootChoiceInput): BootChoice | undefined {
  const { pxe } = input;
  if (!opts.enabled) return undefined;
  const ipxeReady = pxe.isIpxe && (opts.ipxeDetection === 'user-class' || input.tftpDone === true);
  if (ipxeReady) return { bootFile: scriptUrl(opts, input.serverAddress, input.mac), kind: 'script', vendorClass: pxe.isPxe ? 'PXEClient' : undefined };
  if (pxe.isHttpBoot) {
    const file = opts.bootFiles[pxe.archName];
    if (!file) return undefined;
    const base = opts.httpBootBaseUrl ?? `http://${input.serverAddress}:${opts.httpPort}/assets/`;
    return { bootFile: /^https?:\/\//.test(file) ? file : base.replace(/\/?$/, '/') + file.replace(/^\//, ''), kind: 'http', vendorClass: 'HTTPClient' };
  }
  if (pxe.isPxe || pxe.isIpxe) {
    const file = opts.bootFiles[pxe.archName];
    if (!file) return undefined;
    return { bootFile: file, kind: 'binary', vendorClass: pxe.isPxe ? 'PXEClient' : undefined };
  }
  return undefined;
}
