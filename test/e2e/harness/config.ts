import fs from 'node:fs';
import path from 'node:path';
import { FILES } from './env';
import { API_PORT } from './pureboot';
import { NET } from './network';

/**
 * Who answers DHCP: PureBoot's DHCP plugin alone (`dhcp`), dnsmasq for addresses with PureBoot's
 * proxy DHCP beside it (`proxy`), or dnsmasq alone handing iPXE the boot API's chain URL as its
 * file name, with PureBoot serving HTTP only (`http-only`: a site whose DHCP server points at PureBoot).
 */
export type DhcpMode = 'dhcp' | 'proxy' | 'http-only';

/** Boot files by client kind: what the first stage fetches over TFTP (paths inside the TFTP root). */
export interface BootFileMap {
  bios: string;
  uefi: string;
}

export const DEFAULT_BOOT_FILES: BootFileMap = { bios: 'bios/undionly.kpxe', uefi: 'uefi/snponly.efi' };

/** The iPXE script URL the DHCP answer hands to iPXE (boot-api's chain script). */
export const CHAIN_URL = `http://${NET.server}:${API_PORT}/api/v1/ipxe/boot.ipxe`;

/** Fill a TFTP/static root with Debian's iPXE binaries at the paths of {@link DEFAULT_BOOT_FILES}. */
export function populateStaticRoot(root: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  const put = (rel: string, src: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.copyFileSync(src, path.join(root, rel));
    sizes[rel] = fs.statSync(src).size;
  };
  put('bios/undionly.kpxe', FILES.undionly);
  put('uefi/snponly.efi', FILES.snponly);
  put('uefi/ipxe.efi', FILES.ipxeEfi);
  return sizes;
}

/** The storage plugin cases run with: $PUREBOOT_E2E_STORAGE (a short name or a path), default storage-memory. */
export function defaultStorage(): string {
  return process.env.PUREBOOT_E2E_STORAGE || 'storage-memory';
}

export interface CaseConfigInput {
  mode: DhcpMode;
  dataDir: string;
  staticRoot: string;
  token: string;
  /** A storage plugin by short name or path (default storage-memory). */
  storage?: string;
  bootFiles?: BootFileMap;
  profiles?: Record<string, unknown>;
  logLevel?: string;
}

/**
 * The PureBoot configuration of one case: storage, DHCP (full, on the bridge, handing out the pool)
 * or proxy DHCP (beside dnsmasq), TFTP and the boot API on the server address.
 */
export function caseConfig(i: CaseConfigInput): Record<string, unknown> {
  const bootFiles = i.bootFiles ?? DEFAULT_BOOT_FILES;
  const storage = i.storage ?? defaultStorage();
  // Stage 1 gets the binary until the TFTP plugin reported its download for the MAC (QEMU's ROM is
  // iPXE too: the user class cannot tell it from the chained undionly.kpxe); iPXE then gets the chain URL.
  const pxe = {
    ipxeDetection: 'after-tftp',
    bootFiles: { bios: bootFiles.bios, 'uefi-x86_64': bootFiles.uefi },
    scriptUrl: CHAIN_URL,
  };
  const cfg: Record<string, unknown> = {
    plugins: i.mode === 'http-only' ? [storage, 'boot-api'] : [storage, i.mode === 'dhcp' ? 'dhcp' : 'proxy-dhcp', 'tftp', 'boot-api'],
    server: { dataDir: i.dataDir, logLevel: i.logLevel ?? 'debug', shutdownGraceMs: 500 },
    files: { root: i.staticRoot },
    'boot-api': {
      address: '0.0.0.0',
      port: API_PORT,
      publicUrl: `http://${NET.server}:${API_PORT}`,
      token: i.token,
      docs: false,
      menuTimeoutMs: 0,
      profiles: i.profiles ?? {},
    },
  };
  if (i.mode !== 'http-only') cfg.tftp = { address: NET.server, port: 69 };
  if (i.mode === 'dhcp') {
    cfg.dhcp = {
      listen: [{ interface: NET.bridge, address: NET.server }],
      subnets: [
        {
          id: 'e2e',
          cidr: NET.subnet,
          pools: [`${NET.poolStart}-${NET.poolEnd}`],
          router: [NET.server],
          leaseTimeSec: 600,
        },
      ],
      pxe: { ...pxe, httpPort: API_PORT },
    };
  } else if (i.mode === 'proxy') {
    cfg['proxy-dhcp'] = { interface: NET.bridge, serverAddress: NET.server, ...pxe };
  }
  return cfg;
}
