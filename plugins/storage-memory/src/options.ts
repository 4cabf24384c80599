import type { JsonSchema } from '@pureboot/core';

export interface MemoryStorageOptions {
  historyRetention: number;
  bootEventRetention: number;
}

/** Retention options shared by the engine-based backends (storage-memory, storage-file). */
export const retentionSchemaProperties = {
  historyRetention: { type: 'integer', minimum: 1, maximum: 100000, default: 100, description: 'Lifecycle transitions kept per machine (oldest dropped first).' },
  bootEventRetention: { type: 'integer', minimum: 1, maximum: 100000, default: 200, description: 'Boot events kept per machine (oldest dropped first); all of them are held in memory.' },
} as const;

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ...retentionSchemaProperties },
};
