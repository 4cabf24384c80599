import type { JsonSchema } from '@pureboot/core';
import { retentionSchemaProperties } from '@pureboot/plugin-storage-memory';

export type FsyncPolicy = 'always' | 'group' | 'never';

export interface FileStorageOptions {
  /** Folder of the journal, snapshot and lock, relative to server.dataDir. */
  dir: string;
  fsync: FsyncPolicy;
  groupCommitMs: number;
  compactBytes: number;
  compactIntervalMs: number;
  historyRetention: number;
  bootEventRetention: number;
}

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1, default: 'storage', description: 'Folder of the journal, snapshot and lock file, relative to server.dataDir.' },
    fsync: {
      type: 'string',
      enum: ['always', 'group', 'never'],
      default: 'group',
      description:
        'When a write counts as stored: always = fsync before every acknowledgement (writes that queue meanwhile share the next fsync); group = collect writes for groupCommitMs, then one fsync acknowledges them all; never = acknowledged once written to the OS (survives a process crash, not a power cut).',
    },
    groupCommitMs: { type: 'integer', minimum: 0, maximum: 1000, default: 2, description: 'How long the group policy collects writes before its fsync.' },
    compactBytes: { type: 'integer', minimum: 4096, default: 16777216, description: 'Compact (snapshot + new journal) once the journal grows past this many bytes.' },
    compactIntervalMs: { type: 'integer', minimum: 0, default: 3600000, description: 'Also compact this often when the journal has records (0 = only by size).' },
    ...retentionSchemaProperties,
  },
};
