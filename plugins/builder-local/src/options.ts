import type { JsonSchema } from '@pureboot/core';

export interface BuilderLocalOptions {
  sourceDir: string;
  workDir?: string;
  make: string;
  jobs: number;
  revision?: string;
  cross: Record<string, string>;
  killGraceMs: number;
}

const SAFE = '^[A-Za-z0-9._/+-]+$';

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sourceDir'],
  properties: {
    sourceDir: { type: 'string', pattern: SAFE, description: "iPXE's src/ folder (holding its Makefile); relative to the config file." },
    workDir: { type: 'string', pattern: SAFE, description: 'Where builds get their private copy of the tree (default <server.dataDir>/builder-local).' },
    make: { type: 'string', pattern: SAFE, default: 'make', description: 'The make program.' },
    jobs: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'make -j for each build.' },
    revision: { type: 'string', pattern: '^[A-Za-z0-9._:+-]{1,128}$', description: 'Source identity for the build cache (default: git commit of a clean checkout, else a content hash of the tree).' },
    cross: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(
        ['bin/undionly.kpxe', 'bin-x86_64-efi/ipxe.efi', 'bin-x86_64-efi/snponly.efi', 'bin-arm64-efi/snp.efi'].map((t) => [t, { type: 'string', pattern: SAFE }]),
      ),
      description: 'CROSS= compiler prefix per target. Default: aarch64-linux-gnu- for bin-arm64-efi/snp.efi on non-arm64 hosts.',
    },
    killGraceMs: { type: 'integer', minimum: 0, maximum: 60000, default: 2000, description: 'Time between SIGTERM and SIGKILL when a build is cancelled or times out.' },
  },
};
