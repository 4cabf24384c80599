import type { JsonSchema } from '@pureboot/core';

export interface BuilderDockerOptions {
  socketPath?: string;
  image: string;
  ipxeRepo: string;
  ipxeRevision: string;
  buildContext?: string;
  srcPath: string;
  workDir?: string;
  jobs: number;
  cross: Record<string, string>;
  memoryMb: number;
}

const SAFE = '^[A-Za-z0-9._/+-]+$';
const TARGETS = ['bin/undionly.kpxe', 'bin-x86_64-efi/ipxe.efi', 'bin-x86_64-efi/snponly.efi', 'bin-arm64-efi/snp.efi'];

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    socketPath: { type: 'string', pattern: SAFE, description: 'Docker Engine API socket (default: DOCKER_HOST when unix://, else /var/run/docker.sock).' },
    image: { type: 'string', pattern: '^[a-z0-9]+(?:[._/-][a-z0-9]+)*$', default: 'pureboot/ipxe-builder', description: 'Repository name of the builder image; the tag is derived from the revision and the build context.' },
    ipxeRepo: { type: 'string', pattern: '^(https://|git://|file:///)[A-Za-z0-9._~/:@-]+$', default: 'https://github.com/ipxe/ipxe.git', description: 'iPXE git repository cloned at image build time.' },
    ipxeRevision: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', default: 'v1.21.1', description: 'Pinned iPXE revision (commit hash or tag) built into the image; part of the cache key.' },
    buildContext: { type: 'string', pattern: SAFE, description: 'Folder holding the Dockerfile of the builder image (default: the one this package ships).' },
    srcPath: { type: 'string', pattern: '^(/[A-Za-z0-9._-]+)+$', default: '/ipxe/src', description: "iPXE's src/ folder inside the image." },
    workDir: { type: 'string', pattern: SAFE, description: 'Host folder for the per-build script mounted read-only into the container (default <server.dataDir>/builder-docker); must be visible to the Docker engine.' },
    jobs: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'make -j inside the container.' },
    cross: {
      type: 'object',
      additionalProperties: false,
      default: { 'bin-arm64-efi/snp.efi': 'aarch64-linux-gnu-' },
      properties: Object.fromEntries(TARGETS.map((t) => [t, { type: 'string', pattern: '^[A-Za-z0-9._+-]*$' }])),
      description: 'CROSS= compiler prefix per target (the shipped image has aarch64-linux-gnu-).',
    },
    memoryMb: { type: 'integer', minimum: 64, maximum: 65536, default: 2048, description: 'Memory limit of a build container.' },
  },
};
