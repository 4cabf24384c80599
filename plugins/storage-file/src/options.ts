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
  journalOffers: boolean;
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
        'When data reaches the disk. Every write is acknowledged only after its journal record is written (it survives a PureBoot crash). always = also fsync before acknowledging (writes queued meanwhile share the next fsync): survives a power cut; group = one fsync every groupCommitMs for everything written since: a power cut loses at most that window; never = leave it to the OS.',
    },
    groupCommitMs: { type: 'integer', minimum: 0, maximum: 10000, default: 50, description: 'group policy: at most this long between a write and the fsync that makes it power-cut safe.' },
    compactBytes: { type: 'integer', minimum: 4096, default: 16777216, description: 'Compact (snapshot + new journal) once the journal grows past this many bytes.' },
    compactIntervalMs: { type: 'integer', minimum: 0, default: 3600000, description: 'Also compact this often when the journal has records (0 = only by size).' },
    journalOffers: {
      type: 'boolean',
      default: false,
      description:
        'Also journal DHCP OFFER holds. Off (like Kea and dnsmasq): an offer is held in memory for offerHoldSec and the lease is journaled when the client REQUESTs it, before the ACK; after a restart an offered-but-not-requested address is free again.',
    },
    ...retentionSchemaProperties,
  },
};
