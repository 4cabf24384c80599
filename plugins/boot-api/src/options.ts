import { NODE_STATES, type JsonSchema, type NodeState } from '@pureboot/core';
import type { GroupSpec, ProfileSpec } from './catalog';
import { LABEL_KEY_PATTERN } from './labels';

export interface BootApiOptions {
  address: string;
  port: number;
  publicUrl?: string;
  bodyLimit: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  allowedClientNetworks: string[];
  token?: string;
  trustProxy: boolean;
  requestLogs: boolean;
  docs: boolean;
  discovery: 'local' | 'menu';
  menuTimeoutMs: number;
  chainRetries: number;
  installRetries: number;
  lastSeenIntervalMs: number;
  timeouts: Partial<Record<NodeState, number>>;
  asciiLogo?: string[];
  pngLogo?: string;
  profiles: Record<string, ProfileSpec>;
  groups: Record<string, GroupSpec>;
}

export const profileSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string', maxLength: 1000 },
    kernel: { type: 'string', minLength: 1, maxLength: 2048, description: 'Kernel URL or asset path (template).' },
    initrds: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 2048 }, description: 'Initrd URLs or asset paths (templates).' },
    cmdline: { type: 'string', maxLength: 4096, description: 'Kernel command line (template).' },
    script: { type: 'string', minLength: 6, maxLength: 65536, description: 'A whole iPXE script template starting with #!ipxe.' },
  },
};

export const labelsSchema: JsonSchema = {
  type: 'object',
  maxProperties: 64,
  propertyNames: { pattern: LABEL_KEY_PATTERN },
  additionalProperties: { type: 'string', maxLength: 256 },
};

export const groupSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['profile'],
  properties: {
    description: { type: 'string', maxLength: 1000 },
    profile: { type: 'string', minLength: 1, maxLength: 63 },
    mac: { type: 'string', maxLength: 17 },
    arch: { type: 'string', maxLength: 32 },
    state: { enum: [...NODE_STATES] },
    labels: labelsSchema,
  },
};

const ms = (def: number | undefined, description: string): JsonSchema => ({ type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 * 1000, ...(def !== undefined ? { default: def } : {}), description });

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    address: { type: 'string', default: '0.0.0.0', description: 'Address to listen on.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port (0 = any free port).' },
    publicUrl: { type: 'string', pattern: '^https?://[A-Za-z0-9.\\-\\[\\]:]+(/[A-Za-z0-9._~/-]*)?$', description: 'Base URL written into scripts (default: http://<Host header the client used>).' },
    bodyLimit: { type: 'integer', minimum: 1024, maximum: 104857600, default: 1048576, description: 'Largest request body in bytes (413 above).' },
    requestTimeoutMs: ms(30000, 'Time a client has to send a whole request.'),
    keepAliveTimeoutMs: ms(5000, 'Idle keep-alive connection timeout.'),
    allowedClientNetworks: { type: 'array', default: [], items: { type: 'string' }, description: 'CIDRs allowed on the boot endpoints (boot script, chain script, assets, callbacks); empty = all.' },
    token: { type: 'string', minLength: 16, description: 'Bearer token for the management API; generated into <dataDir>/boot-api.token when missing.' },
    trustProxy: { type: 'boolean', default: false, description: 'Take the client address from X-Forwarded-For.' },
    requestLogs: { type: 'boolean', default: true, description: 'Log every request (pino, at info).' },
    docs: { type: 'boolean', default: true, description: 'Serve the interactive API docs at /docs.' },
    discovery: { enum: ['local', 'menu'], default: 'local', description: 'What a discovered (unknown) machine gets: local boot, or a menu (retry / local / shell).' },
    menuTimeoutMs: ms(3000, 'Menu timeout of the chain script and the discovery menu (0 = no menu in the chain script).'),
    chainRetries: { type: 'integer', minimum: 0, maximum: 100, default: 5, description: 'How often the chain script retries fetching the machine script.' },
    installRetries: { type: 'integer', minimum: 0, maximum: 100, default: 3, description: 'How often an install script retries loading its kernel/initrds.' },
    lastSeenIntervalMs: ms(60000, 'lastSeen is written at most this often per machine (fewer store writes).'),
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        pending: ms(undefined, 'pending longer than this → failed (default: never).'),
        installing: ms(3600000, 'installing longer than this → failed.'),
        installed: ms(undefined, 'installed without a local boot through PureBoot for this long → active (default: never).'),
      },
    },
    asciiLogo: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 80, pattern: '^[\\x20-\\x7e]*$' }, description: 'Logo lines the chain script prints.' },
    pngLogo: { type: 'string', description: 'PNG shown by the chain script on graphical consoles (relative to the config file).' },
    profiles: { type: 'object', default: {}, propertyNames: { pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }, additionalProperties: profileSchema },
    groups: { type: 'object', default: {}, propertyNames: { pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }, additionalProperties: groupSchema },
  },
};
