/**
 * The `builderBackend` service contract: something that runs iPXE's make for one build and hands back
 * the binary. `@pureboot/plugin-builder-docker` (a container per build) and
 * `@pureboot/plugin-builder-local` (make in a local iPXE source tree) provide it;
 * `@pureboot/plugin-ipxe-builder` owns queueing, caching, timeouts and the API, and calls `build()`.
 *
 * Everything in a BuildSpec has been validated by the caller, and backends check it again
 * (`assertValidBuildSpec`): the target comes from a fixed list, header file names from a fixed
 * pattern, and nothing is ever passed through a shell.
 */

/** iPXE make targets PureBoot builds (paths relative to iPXE's `src/`). */
export const IPXE_TARGETS = ['bin/undionly.kpxe', 'bin-x86_64-efi/ipxe.efi', 'bin-x86_64-efi/snponly.efi', 'bin-arm64-efi/snp.efi'] as const;
export type IpxeTarget = (typeof IPXE_TARGETS)[number];

/** Names of iPXE's `config/local/*.h` headers a build may write (`general.h`, `console.h` …). */
export const CONFIG_HEADER_NAME = /^[a-z][a-z0-9_]{0,31}\.h$/;

export interface BuildSpec {
  /** Unique id of this build (used for container and directory names: `[a-z0-9-]`). */
  id: string;
  target: IpxeTarget;
  /** The script to embed (`EMBED=`), already generated from validated inputs; none when absent. */
  embeddedScript?: string;
  /** `config/local/<name>` → file contents. Headers not named here stay iPXE's defaults. */
  configHeaders: Record<string, string>;
  /** Abort to cancel or time out: the backend kills the build, cleans up, then rejects. */
  signal: AbortSignal;
  /** One line of build output (stdout and stderr, in order of arrival, without the newline). */
  onLog(line: string): void;
}

export interface BuildResult {
  /** The built binary. */
  artifact: Buffer;
  /** Exit status of make (always 0 for a result). */
  exitCode: 0;
}

export interface BuilderBackend {
  /** Short backend name for logs and the API (`docker`, `local`). */
  readonly name: string;
  /**
   * Get ready to build (the Docker backend builds or finds its image; the local backend checks its
   * source tree). Idempotent; `build()` calls it when it has not run yet.
   */
  prepare(onLog?: (line: string) => void): Promise<void>;
  /** Identity of the iPXE source the builds use (a git revision, image label, or content hash): part of the cache key. */
  sourceRevision(): Promise<string>;
  /**
   * Run one build. Resolves with the artifact when make exits 0. Rejects with a `BuilderError`:
   * `failed` (make exited non-zero, or the artifact is missing), `aborted` (the signal fired: the
   * build was killed and cleaned up before the promise settles), `backend` (the backend itself
   * could not run: no Docker engine, no source tree), `invalid` (the spec failed
   * `assertValidBuildSpec`; nothing ran). Never leaves a process, container or
   * temporary directory behind once it settles.
   */
  build(spec: BuildSpec): Promise<BuildResult>;
}

export type BuilderErrorKind = 'failed' | 'aborted' | 'backend' | 'invalid';

export const BuilderErrorCodes = Object.freeze({
  FAILED: 'PB_ERR_BUILDER_FAILED',
  ABORTED: 'PB_ERR_BUILDER_ABORTED',
  BACKEND: 'PB_ERR_BUILDER_BACKEND',
  INVALID: 'PB_ERR_BUILDER_INVALID_SPEC',
} as const);

const KIND_CODE: Record<BuilderErrorKind, string> = {
  failed: BuilderErrorCodes.FAILED,
  aborted: BuilderErrorCodes.ABORTED,
  backend: BuilderErrorCodes.BACKEND,
  invalid: BuilderErrorCodes.INVALID,
};

/** What a backend's build() rejects with. */
export class BuilderError extends Error {
  readonly code: string;
  constructor(
    readonly kind: BuilderErrorKind,
    message: string,
    readonly exitCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BuilderError';
    this.code = KIND_CODE[kind];
  }
}

export function isIpxeTarget(t: unknown): t is IpxeTarget {
  return typeof t === 'string' && (IPXE_TARGETS as readonly string[]).includes(t);
}

/** Backends call this first: a spec that slipped past the caller's validation never reaches make. */
export function assertValidBuildSpec(spec: BuildSpec): void {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(spec.id)) throw new BuilderError('invalid', `build id ${JSON.stringify(spec.id)} is not [a-z0-9-]`);
  if (!isIpxeTarget(spec.target)) throw new BuilderError('invalid', `target ${JSON.stringify(spec.target)} is not one of ${IPXE_TARGETS.join(', ')}`);
  for (const [name, body] of Object.entries(spec.configHeaders)) {
    if (!CONFIG_HEADER_NAME.test(name)) throw new BuilderError('invalid', `config header name ${JSON.stringify(name)} is not allowed`);
    if (typeof body !== 'string') throw new BuilderError('invalid', `config header ${name} is not text`);
  }
  if (spec.embeddedScript !== undefined && (typeof spec.embeddedScript !== 'string' || !spec.embeddedScript.startsWith('#!ipxe'))) {
    throw new BuilderError('invalid', 'the embedded script must start with #!ipxe');
  }
}
