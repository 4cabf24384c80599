import type { JsonSchema } from '@pureboot/core';

export interface ListenOptions {
  /** Interface name: the socket is bound to it with SO_BINDTODEVICE (needs root or CAP_NET_RAW). */
  interface?: string;
  /** This server's address on that link: the server identifier (54) and how its subnet is found. */
  address: string;
}

export interface ReservationOptions {
  mac?: string;
  /** Hex of option 61 (type byte first). */
  clientId?: string;
  address: string;
  hostname?: string;
  bootFile?: string;
  nextServer?: string;
  options?: Record<string, unknown>;
}

export interface SubnetOptions {
  id: string;
  /** e.g. 198.18.1.0/24 */
  cidr: string;
  /** Dynamic ranges "start-end". */
  pools: string[];
  /** Addresses never handed out dynamically: "a" or "start-end". */
  exclude: string[];
  router?: string[];
  dns?: string[];
  domainName?: string;
  leaseTimeSec: number;
  /** Default: half the lease time. */
  renewalTimeSec?: number;
  /** Default: 7/8 of the lease time. */
  rebindingTimeSec?: number;
  /** Extra options by registry name or code. */
  options: Record<string, unknown>;
  reservations: ReservationOptions[];
  /** Boot file for non-PXE clients of this subnet (overrides nothing for PXE clients). */
  bootFile?: string;
  nextServer?: string;
}

export type IpxeDetection = 'user-class' | 'after-tftp';

export interface PxeOptions {
  enabled: boolean;
  ipxeDetection: IpxeDetection;
  /** Boot file by architecture name (core PxeArchName) for firmware PXE clients. */
  bootFiles: Record<string, string>;
  /** iPXE script URL; `${mac}` is replaced. Default http://<server id>:<httpPort>/boot/${mac}. */
  scriptUrl?: string;
  httpPort: number;
  /** Base URL for UEFI HTTP-boot clients (arch 16/19); default http://<server id>:<httpPort>/assets/. */
  httpBootBaseUrl?: string;
  /** siaddr / option 66 (TFTP server); default: the server identifier. */
  nextServer?: string;
}

export interface DhcpPluginOptions {
  listen: ListenOptions[];
  /** Server port (67) and client port (68): changed only for tests without privileges. */
  port: number;
  clientPort: number;
  authoritative: boolean;
  offerHoldSec: number;
  declineQuarantineSec: number;
  reclaimIntervalSec: number;
  /** Addresses newly taken from a pool per second (token bucket; clients with a lease are always answered). 0 = unlimited. */
  maxNewOffersPerSec: number;
  subnets: SubnetOptions[];
  pxe: PxeOptions;
}

const ipv4 = { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' };
const range = { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}(\\s*-\\s*\\d{1,3}(\\.\\d{1,3}){3})?$' };

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['address'],
        properties: { interface: { type: 'string', minLength: 1, maxLength: 15 }, address: ipv4 },
      },
    },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 67 },
    clientPort: { type: 'integer', minimum: 1, maximum: 65535, default: 68 },
    authoritative: { type: 'boolean', default: true },
    offerHoldSec: { type: 'integer', minimum: 1, maximum: 3600, default: 30 },
    declineQuarantineSec: { type: 'integer', minimum: 1, default: 3600 },
    reclaimIntervalSec: { type: 'integer', minimum: 1, default: 30 },
    maxNewOffersPerSec: { type: 'integer', minimum: 0, default: 1000 },
    subnets: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'cidr'],
        properties: {
          id: { type: 'string', minLength: 1 },
          cidr: { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$' },
          pools: { type: 'array', items: range, default: [] },
          exclude: { type: 'array', items: range, default: [] },
          router: { type: 'array', items: ipv4 },
          dns: { type: 'array', items: ipv4 },
          domainName: { type: 'string', minLength: 1 },
          leaseTimeSec: { type: 'integer', minimum: 10, default: 3600 },
          renewalTimeSec: { type: 'integer', minimum: 1 },
          rebindingTimeSec: { type: 'integer', minimum: 1 },
          options: { type: 'object', default: {} },
          bootFile: { type: 'string' },
          nextServer: ipv4,
          reservations: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['address'],
              properties: {
                mac: { type: 'string', pattern: '^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$' },
                clientId: { type: 'string', pattern: '^([0-9a-fA-F]{2}:?){2,}$' },
                address: ipv4,
                hostname: { type: 'string', minLength: 1 },
                bootFile: { type: 'string' },
                nextServer: ipv4,
                options: { type: 'object' },
              },
            },
          },
        },
      },
    },
    pxe: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        ipxeDetection: { enum: ['user-class', 'after-tftp'], default: 'user-class' },
        bootFiles: {
          type: 'object',
          additionalProperties: { type: 'string' },
          default: {
            bios: 'bios/undionly.kpxe',
            'uefi-x86_64': 'uefi/snponly.efi',
            'uefi-ia32': 'uefi/ipxe-i386.efi',
            'uefi-arm64': 'arm64/snp.efi',
            'uefi-x86_64-http': 'uefi/ipxe.efi',
            'uefi-arm64-http': 'arm64/snp.efi',
          },
        },
        scriptUrl: { type: 'string' },
        httpPort: { type: 'integer', minimum: 1, maximum: 65535, default: 8080 },
        httpBootBaseUrl: { type: 'string' },
        nextServer: ipv4,
      },
    },
  },
};
