import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assertValidBuildSpec, BuilderError, lineSplitter, type BuildResult, type BuildSpec, type BuilderBackend, type IpxeTarget, type Logger } from '@pureboot/core';
import { sourceRevisionOf } from './source-revision';

export interface LocalBackendOptions {
  /** iPXE's `src/` folder (the one holding iPXE's Makefile), absolute. */
  sourceDir: string;
  /** Where each build gets its private copy of the tree, absolute. */
  workDir: string;
  make: string;
  jobs: number;
  /** Fixed source identity for the cache (default: git commit or content hash of the tree). */
  revision?: string;
  /** `CROSS=` prefix per target (e.g. arm64 on an x86 host). */
  cross: Partial<Record<IpxeTarget, string>>;
  /** SIGTERM → SIGKILL grace when a build is aborted. */
  killGraceMs: number;
}

/** Characters allowed in paths and values that become make arguments (no spaces, quotes, `$`, `;` …). */
export const SAFE_ARG = /^[A-Za-z0-9._/+-]+$/;

/**
 * The local backend: every build copies the iPXE source tree (without build output) into a private
 * folder, writes its config/local headers and embedded script there, and runs iPXE's make in its own
 * process group, without a shell. Aborting kills the whole group; the folder is always removed.
 */
export class LocalBackend implements BuilderBackend {
  readonly name = 'local';
  private prepared: Promise<void> | undefined;
  private revision: Promise<string> | undefined;

  constructor(
    private readonly o: LocalBackendOptions,
    private readonly logger?: Logger,
  ) {
    for (const [k, v] of [['sourceDir', o.sourceDir], ['workDir', o.workDir], ...Object.entries(o.cross)] as Array<[string, string]>) {
      if (!SAFE_ARG.test(v)) throw new BuilderError('invalid', `builder-local: ${k} ${JSON.stringify(v)} may only hold letters, digits and . _ / + -`);
    }
  }

  prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const makefile = path.join(this.o.sourceDir, 'Makefile');
      try {
        await fs.promises.access(makefile, fs.constants.R_OK);
      } catch {
        this.prepared = undefined;
        throw new BuilderError('backend', `builder-local: ${makefile} not found: sourceDir must be iPXE's src/ folder`);
      }
      await fs.promises.mkdir(this.o.workDir, { recursive: true });
    })();
    return this.prepared;
  }

  sourceRevision(): Promise<string> {
    this.revision ??= (this.o.revision ? Promise.resolve(this.o.revision) : sourceRevisionOf(this.o.sourceDir)).catch((err: unknown) => {
      this.revision = undefined;
      throw new BuilderError('backend', `builder-local: cannot read the source tree ${this.o.sourceDir}: ${(err as Error).message}`, undefined, { cause: err });
    });
    return this.revision;
  }

  async build(spec: BuildSpec): Promise<BuildResult> {
    assertValidBuildSpec(spec);
    if (spec.signal.aborted) throw aborted(spec);
    await this.prepare();
    const dir = await fs.promises.mkdtemp(path.join(this.o.workDir, `${spec.id}-`));
    try {
      const src = path.join(dir, 'src');
      await fs.promises.cp(this.o.sourceDir, src, {
        recursive: true,
        // Build output and local headers of the shared tree stay out of a build's private copy.
        filter: (from) => {
          const rel = path.relative(this.o.sourceDir, from);
          return !(/^bin[^/]*(\/|$)/.test(rel) || /^config\/local\/.+\.h$/.test(rel));
        },
      });
      await fs.promises.mkdir(path.join(src, 'config', 'local'), { recursive: true });
      for (const [name, body] of Object.entries(spec.configHeaders)) {
        await fs.promises.writeFile(path.join(src, 'config', 'local', name), body, { mode: 0o644 });
      }
      const args = ['-C', src, `-j${this.o.jobs}`, spec.target];
      if (spec.embeddedScript !== undefined) {
        const embed = path.join(dir, 'embed.ipxe');
        await fs.promises.writeFile(embed, spec.embeddedScript, { mode: 0o444 });
        args.push(`EMBED=${embed}`);
      }
      const cross = this.o.cross[spec.target];
      if (cross) args.push(`CROSS=${cross}`);
      if (spec.signal.aborted) throw aborted(spec);
      const code = await this.runMake(args, spec);
      if (code === 'aborted') throw aborted(spec);
      if (code !== 0) throw new BuilderError('failed', `make ${spec.target} exited with status ${code}`, code);
      let artifact: Buffer;
      try {
        artifact = await fs.promises.readFile(path.join(src, spec.target));
      } catch {
        throw new BuilderError('failed', `make ${spec.target} succeeded but wrote no ${spec.target}`, 0);
      }
      return { artifact, exitCode: 0 };
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }

  /** Run make in its own process group; resolves with its exit status, or 'aborted' once the group is gone. */
  private runMake(args: string[], spec: BuildSpec): Promise<number | 'aborted'> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.make, args, { cwd: this.o.workDir, detached: true, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = lineSplitter(spec.onLog);
      const err = lineSplitter(spec.onLog);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      let wasAborted = false;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          /* already gone */
        }
      };
      const onAbort = () => {
        wasAborted = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.o.killGraceMs);
      };
      spec.signal.addEventListener('abort', onAbort, { once: true });
      if (spec.signal.aborted) onAbort();
      child.on('error', (e) => {
        spec.signal.removeEventListener('abort', onAbort);
        reject(new BuilderError('backend', `builder-local: cannot run ${this.o.make}: ${e.message}`, undefined, { cause: e }));
      });
      child.on('close', (code, signal) => {
        spec.signal.removeEventListener('abort', onAbort);
        out.flush();
        err.flush();
        // make may die before its children: make sure nothing of the group survives.
        killGroup('SIGKILL');
        if (killTimer) clearTimeout(killTimer);
        if (wasAborted) resolve('aborted');
        else resolve(code ?? (signal ? 128 : 1));
      });
      this.logger?.debug({ build: spec.id, argv: [this.o.make, ...args] }, 'builder-local: make started');
    });
  }
}

function aborted(spec: BuildSpec): BuilderError {
  const reason = spec.signal.reason instanceof Error ? spec.signal.reason.message : 'aborted';
  return new BuilderError('aborted', `build ${spec.id} aborted: ${reason}`);
}
