import type { JsonSchema, PxeArchName } from '@pureboot/core';

export type UefiStrategy = 'discovery-control' | 'boot-server';
export type IpxeDetection = 'user-class' | 'after-tftp';

/** What a client rule matches; every given field must match. */
export interface RuleMatch {
  /** MAC prefix, lower or upper case, `:`/`-` separated or not (`52:54:00`). */
  macPrefix?: string;
  /** Prefix of option 60 (`PXEClient:Arch:00007`). */
  vendorClass?: string;
  /** Architecture: option 93 number or PureBoot's arch name (`uefi-x86_64`). */
  arch?: number | PxeArchName;
}

/** A client rule (firmware quirk): the first rule whose `match` fits applies. */
export interface ClientRule {
  name?: string;
  match: RuleMatch;
  /** Wait this long before answering (firmware that misses fast answers). */
  delayMs?: number;
  /** How UEFI clients are told where to boot from (see README). */
  uefiStrategy?: UefiStrategy;
  /** Boot file (or URL) for the matching clients, instead of the arch map. */
  bootFile?: string;
  /** Never answer the matching clients. */
  ignore?: boolean;
}

export interface MenuItem {
  /** PXE boot server type (1..65535; 0 = local boot). */
  type: number;
  description: string;
  /** Boot file for this item (default: the arch map's file). */
  bootFile?: string;
}

export interface BootMenu {
  prompt: string;
  /** Seconds the prompt waits (0 = pick the first item at once, 255 = wait forever). */
  timeoutSec: number;
  items: MenuItem[];
}

export interface ProxyDhcpOptions {
  /** Address the two sockets bind to (0.0.0.0 to hear broadcasts). */
  address: string;
  port: number;
  bootServerPort: number;
  /** Interface PureBoot serves (picks serverAddress; used by the config check). */
  interface?: string;
  /** Our address: option 54, siaddr, `{server}` in URLs. Default: first IPv4 of `interface`, else of the host. */
  serverAddress?: string;
  /** TFTP server (siaddr / next-server); default serverAddress. */
  tftpServer?: string;
  /** Where broadcast answers go (default 255.255.255.255). */
  broadcastAddress?: string;
  /** Boot file by architecture name; `{server}`/`{httpPort}`/`{mac}` are filled in. */
  bootFiles: Partial<Record<PxeArchName, string>>;
  /** Script URL for iPXE clients; `{server}`, `{httpPort}`, `{mac}` are filled in. */
  scriptUrl: string;
  /** HTTP port for `{httpPort}`; default the boot-api's port (8080). */
  httpPort?: number;
  ipxeDetection: IpxeDetection;
  /** after-tftp: how long a tftp.done for a MAC makes its iPXE requests get the script. */
  afterTftpWindowSec: number;
  uefiStrategy: UefiStrategy;
  /** PXE boot menu (BIOS ROMs); the chosen item comes back on port 4011. */
  menu?: BootMenu;
  rules: ClientRule[];
}

const archNames: PxeArchName[] = ['bios', 'uefi-ia32', 'uefi-x86_64', 'uefi-arm32', 'uefi-arm64', 'uefi-x86_64-http', 'uefi-arm64-http', 'unknown'];

export const DEFAULT_BOOT_FILES: Partial<Record<PxeArchName, string>> = {
  bios: 'bios/undionly.kpxe',
  'uefi-x86_64': 'uefi/snponly.efi',
  'uefi-arm64': 'uefi/arm64/snp.efi',
  'uefi-x86_64-http': 'http://{server}:{httpPort}/api/v1/assets/uefi/snponly.efi',
  'uefi-arm64-http': 'http://{server}:{httpPort}/api/v1/assets/uefi/arm64/snp.efi',
};

const strategy: JsonSchema = {
  enum: ['discovery-control', 'boot-server'],
  description: "UEFI clients: 'discovery-control' sends option 43 with discovery control 8 so the client boots the file in the offer (Smee's way); 'boot-server' omits option 43 and the file so the client asks again on port 4011 (Pixiecore's way).",
};

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    address: { type: 'string', default: '0.0.0.0', description: 'Address both sockets bind to (0.0.0.0 hears broadcasts).' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 67, description: 'DHCP server port (shared with the site DHCP server through SO_REUSEADDR).' },
    bootServerPort: { type: 'integer', minimum: 1, maximum: 65535, default: 4011, description: 'PXE boot server port.' },
    interface: { type: 'string', minLength: 1, description: 'Interface PureBoot serves: broadcast answers leave by it (IP_UNICAST_IF; default: the interface holding serverAddress); picks serverAddress; compared with the DHCP plugin by the config check.' },
    serverAddress: { type: 'string', format: 'ipv4', description: 'Our address in option 54, siaddr and URLs (default: first IPv4 address of interface, else of the host).' },
    tftpServer: { type: 'string', format: 'ipv4', description: 'siaddr/next-server (default serverAddress).' },
    broadcastAddress: { type: 'string', format: 'ipv4', description: 'Destination of broadcast answers (default 255.255.255.255; EDK2 ignores directed broadcasts). They leave by proxy-dhcp.interface (else the interface holding serverAddress), so no default route is needed.' },
    bootFiles: {
      type: 'object',
      default: DEFAULT_BOOT_FILES,
      propertyNames: { enum: archNames },
      additionalProperties: { type: 'string', minLength: 1, maxLength: 255 },
      description: 'Boot file by architecture (bios, uefi-x86_64, uefi-arm64, uefi-x86_64-http …); {server}, {httpPort} and {mac} are filled in. An architecture without a file gets no answer.',
    },
    scriptUrl: { type: 'string', minLength: 1, maxLength: 255, default: 'http://{server}:{httpPort}/api/v1/ipxe/boot.ipxe', description: 'What iPXE clients get instead of a binary ({server}, {httpPort}, {mac} filled in).' },
    httpPort: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port in {httpPort} (default: boot-api.port, else 8080).' },
    ipxeDetection: { enum: ['user-class', 'after-tftp'], default: 'user-class', description: "'user-class': an iPXE client (user class iPXE / option 175) gets the script URL; 'after-tftp': only after the TFTP plugin reported tftp.done for its MAC." },
    afterTftpWindowSec: { type: 'integer', minimum: 1, maximum: 86400, default: 600, description: 'after-tftp: how long a tftp.done counts.' },
    uefiStrategy: { ...strategy, default: 'discovery-control' },
    menu: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: {
        prompt: { type: 'string', maxLength: 200, default: 'Press F8 for the boot menu' },
        timeoutSec: { type: 'integer', minimum: 0, maximum: 255, default: 5 },
        items: {
          type: 'array',
          minItems: 1,
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'description'],
            properties: {
              type: { type: 'integer', minimum: 0, maximum: 65535 },
              description: { type: 'string', minLength: 1, maxLength: 100 },
              bootFile: { type: 'string', minLength: 1, maxLength: 255 },
            },
          },
        },
      },
      description: 'A PXE boot menu (option 43 sub-options 8, 9, 10) shown by BIOS PXE ROMs; the chosen item comes back on port 4011.',
    },
    rules: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match'],
        properties: {
          name: { type: 'string' },
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              macPrefix: { type: 'string', pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){0,5}$' },
              vendorClass: { type: 'string', minLength: 1 },
              arch: { anyOf: [{ type: 'integer', minimum: 0, maximum: 65535 }, { enum: archNames }] },
            },
          },
          delayMs: { type: 'integer', minimum: 0, maximum: 10000 },
          uefiStrategy: strategy,
          bootFile: { type: 'string', minLength: 1, maxLength: 255 },
          ignore: { type: 'boolean' },
        },
      },
      description: 'Client rules (firmware quirks), first match wins: reply delay, UEFI strategy, boot file override, ignore.',
    },
  },
};
