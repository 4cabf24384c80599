import { IPXE_TARGETS, type JsonSchema } from '@pureboot/core';
import { FEATURE_NAMES } from './features';
import { FALLBACKS, type EmbedSpec } from './inputs';

export interface IpxeBuilderOptions {
  pathPrefix: string;
  concurrency: number;
  timeoutMs: number;
  maxQueued: number;
  maxLogLines: number;
  keepFinished: number;
  embed: Partial<EmbedSpec>;
  autoexec: { enabled: boolean; paths: string[] };
  builds: Array<Record<string, unknown>>;
  prepareOnStart: boolean;
}

const embedSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: { type: 'string', description: 'IP address or DNS name of this PureBoot server as the machines reach it.' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Its HTTP port (default 8080).' },
    scheme: { type: 'string', enum: ['http', 'https'], description: 'https needs the `https` feature in the build.' },
    chainPath: { type: 'string', description: 'Path of the chain script (default /api/v1/ipxe/boot.ipxe).' },
    dhcpRetries: { type: 'integer', minimum: 1, maximum: 1000 },
    chainRetries: { type: 'integer', minimum: 1, maximum: 1000 },
    requireBootInfo: { type: 'boolean', description: 'Keep asking DHCP until next-server or filename arrives too (proxy DHCP race).' },
    fallback: { type: 'string', enum: [...FALLBACKS] },
  },
  default: {},
};

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pathPrefix: { type: 'string', pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$', default: 'ipxe', description: 'TFTP/HTTP path prefix of built binaries: <pathPrefix>/<name> and <pathPrefix>/<key>/<file>.' },
    concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 1, description: 'Builds running at once.' },
    timeoutMs: { type: 'integer', minimum: 1000, maximum: 7200000, default: 900000, description: 'A build running longer is killed (status timed-out).' },
    maxQueued: { type: 'integer', minimum: 1, maximum: 10000, default: 50, description: 'Builds allowed to wait; more are refused with HTTP 429.' },
    maxLogLines: { type: 'integer', minimum: 100, maximum: 1000000, default: 20000, description: 'Log lines kept per build (the oldest are dropped).' },
    keepFinished: { type: 'integer', minimum: 1, maximum: 100000, default: 200, description: 'Finished builds the API remembers (artifacts stay in the cache).' },
    embed: { ...embedSchema, description: 'Defaults of the embedded script; with `server` set, builds embed a script unless they ask for embed: false.' },
    autoexec: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Serve the embedded script as autoexec.ipxe (for signed iPXE under Secure Boot). Needs embed.server.' },
        paths: { type: 'array', items: { type: 'string', pattern: '^([A-Za-z0-9_-]+/)*autoexec\\.ipxe$' }, default: ['autoexec.ipxe'], description: 'Paths answered with it: the folders signed iPXE binaries are loaded from.' },
      },
    },
    prepareOnStart: { type: 'boolean', default: true, description: "Get the backend ready when PureBoot starts (the Docker backend builds its image), in the background." },
    builds: {
      type: 'array',
      default: [],
      description: 'Builds made (or found in the cache) when PureBoot starts, usually with a name so the DHCP boot-file map can point at <pathPrefix>/<name>.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['target'],
        properties: {
          target: { type: 'string', enum: [...IPXE_TARGETS] },
          name: { type: 'string' },
          features: { type: 'array', items: { type: 'string', enum: [...FEATURE_NAMES] } },
          embed: { anyOf: [{ type: 'boolean', enum: [false] }, { ...embedSchema, default: undefined }] },
        },
      },
    },
  },
};
