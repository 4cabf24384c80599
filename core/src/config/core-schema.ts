import type { JsonSchema } from '../plugin/definition';
import { HOOK_NAMES } from '../hooks/create-hooks';

const hookDeadlines: Record<string, JsonSchema> = {};
for (const name of HOOK_NAMES) hookDeadlines[name] = { type: 'integer', minimum: 1, maximum: 600000 };

/** JSON schema of the core keys. Plugin option schemas are added under their short names. */
export const coreSchemaProperties: Record<string, JsonSchema> = {
  plugins: {
    description: 'Plugins by short name (tftp), package name (@pureboot/plugin-tftp) or local path (./my-plugin).',
    type: 'array',
    default: [],
    items: {
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1 }, enabled: { type: 'boolean', default: true } },
        },
      ],
    },
  },
  services: {
    description: 'Which plugin provides a service that several loaded plugins offer: service name → plugin short name.',
    type: 'object',
    default: {},
    additionalProperties: { type: 'string' },
  },
  server: {
    type: 'object',
    default: {},
    additionalProperties: false,
    properties: {
      dataDir: { type: 'string', default: './var', description: 'State folder (relative to the config file).' },
      logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
      shutdownGraceMs: { type: 'integer', minimum: 0, maximum: 60000, default: 1500 },
    },
  },
  hooks: {
    type: 'object',
    default: {},
    additionalProperties: false,
    properties: {
      deadlineMs: { type: 'integer', minimum: 1, maximum: 600000, default: 1000 },
      deadlines: { type: 'object', default: {}, additionalProperties: false, properties: hookDeadlines },
    },
  },
  files: {
    type: 'object',
    default: {},
    additionalProperties: false,
    properties: {
      root: { type: 'string', default: './tftp', description: 'Static file root for TFTP and HTTP (relative to the config file).' },
    },
  },
};

export const CORE_KEYS = Object.keys(coreSchemaProperties);
