import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { assertValidBuildSpec, BuilderError, lineSplitter, type BuildResult, type BuildSpec, type BuilderBackend, type IpxeTarget, type Logger } from '@pureboot/core';
import { firstFileOf, listFiles, tarOf, tarOfDir } from './tar';

export interface DockerBackendOptions {
  /** Docker Engine API socket. */
  socketPath: string;
  /** Repository name of the builder image (`pureboot/ipxe-builder`). */
  image: string;
  ipxeRepo: string;
  ipxeRevision: string;
  /** Folder holding the builder image's Dockerfile (absolute). */
  buildContext: string;
  /** iPXE's src/ folder inside the image. */
  srcPath: string;
  /** Host folder for the per-build embedded scripts (bind-mounted read-only). */
  workDir: string;
  jobs: number;
  cross: Partial<Record<IpxeTarget, string>>;
  memoryMb: number;
}

/** Label on every build container: what `residue()` and a restart clean-up look for. */
export const BUILD_LABEL = 'org.pureboot.ipxe-build';
const MAX_ARTIFACT = 64 * 1024 * 1024;
const SAFE = /^[A-Za-z0-9._/+-]+$/;

function engineError(what: string, err: unknown): BuilderError {
  return new BuilderError('backend', `builder-docker: ${what}: ${(err as Error).message}`, undefined, { cause: err });
}

/**
 * The Docker backend: one container per build from the builder image (built from the shipped
 * Dockerfile, or found by its tag), the embedded script bind-mounted read-only, the config/local
 * headers copied in, the container's output streamed into the build log, the artifact copied out,
 * and the container removed whatever happened. Aborting kills the container.
 */
export class DockerBackend implements BuilderBackend {
  readonly name = 'docker';
  readonly docker: Docker;
  private prepared: Promise<void> | undefined;
  private revision: Promise<string> | undefined;
  private tag: Promise<string> | undefined;

  constructor(
    private readonly o: DockerBackendOptions,
    private readonly logger?: Logger,
  ) {
    for (const [k, v] of [['workDir', o.workDir], ['srcPath', o.srcPath], ...Object.entries(o.cross).filter(([, c]) => c !== '')] as Array<[string, string]>) {
      if (!SAFE.test(v)) throw new BuilderError('invalid', `builder-docker: ${k} ${JSON.stringify(v)} may only hold letters, digits and . _ / + -`);
    }
    this.docker = new Docker({ socketPath: o.socketPath });
  }

  /** `<image>:<revision>-<hash of the build context>`: a changed Dockerfile or revision gets a new image. */
  imageTag(): Promise<string> {
    this.tag ??= (async () => {
      const hash = await this.contextHash();
      return `${this.o.image}:${this.o.ipxeRevision.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}-${hash.slice(0, 12)}`;
    })();
    return this.tag;
  }

  private async contextHash(): Promise<string> {
    const h = crypto.createHash('sha256');
    h.update(`${this.o.ipxeRepo}\0${this.o.ipxeRevision}\0`);
    try {
      for (const f of await listFiles(this.o.buildContext)) {
        h.update(`${f}\0`);
        h.update(await fs.promises.readFile(path.join(this.o.buildContext, f)));
        h.update('\0');
      }
    } catch (err) {
      throw new BuilderError('backend', `builder-docker: cannot read the build context ${this.o.buildContext}: ${(err as Error).message}`);
    }
    return h.digest('hex');
  }

  sourceRevision(): Promise<string> {
    this.revision ??= this.imageTag().then(
      (t) => `docker:${t.slice(this.o.image.length + 1)}`,
      (err: unknown) => {
        this.revision = undefined;
        this.tag = undefined;
        throw err;
      },
    );
    return this.revision;
  }

  prepare(onLog?: (line: string) => void): Promise<void> {
    this.prepared ??= this.doPrepare(onLog).catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  private async doPrepare(onLog?: (line: string) => void): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw engineError(`the Docker engine at ${this.o.socketPath} does not answer`, err);
    }
    await fs.promises.mkdir(this.o.workDir, { recursive: true });
    const tag = await this.imageTag();
    try {
      await this.docker.getImage(tag).inspect();
      return;
    } catch {
      /* not there yet: build it */
    }
    const log = onLog ?? ((l: string) => this.logger?.info({ image: tag }, l));
    log(`builder-docker: building image ${tag} from ${this.o.buildContext} (iPXE ${this.o.ipxeRevision})`);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(await tarOfDir(this.o.buildContext), {
        t: tag,
        buildargs: { IPXE_REPO: this.o.ipxeRepo, IPXE_REVISION: this.o.ipxeRevision },
        labels: { 'org.pureboot.ipxe.revision': this.o.ipxeRevision },
        rm: true,
        forcerm: true,
      });
    } catch (err) {
      throw engineError('cannot start the image build', err);
    }
    const lines = lineSplitter(log);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          lines.flush();
          const failed = err?.message ?? output.find((o) => o.error)?.error;
          if (failed) reject(new BuilderError('backend', `builder-docker: building image ${tag} failed: ${failed}`));
          else resolve();
        },
        (ev: { stream?: string; status?: string; error?: string }) => {
          if (ev.stream) lines.push(ev.stream);
          else if (ev.status) log(ev.status);
          else if (ev.error) log(ev.error);
        },
      );
    });
    try {
      await this.docker.getImage(tag).inspect();
    } catch (err) {
      throw engineError(`image ${tag} is missing after its build`, err);
    }
  }

  async build(spec: BuildSpec): Promise<BuildResult> {
    assertValidBuildSpec(spec);
    if (spec.signal.aborted) throw aborted(spec);
    await this.prepare();
    if (spec.signal.aborted) throw aborted(spec);
    const tag = await this.imageTag();
    const hostDir = await fs.promises.mkdtemp(path.join(this.o.workDir, `${spec.id}-`));
    let container: Docker.Container | undefined;
    let wasAborted = false;
    const onAbort = () => {
      wasAborted = true;
      container?.kill().catch(() => undefined);
    };
    spec.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const cmd = ['make', '-C', this.o.srcPath, `-j${this.o.jobs}`, spec.target];
      const binds: string[] = [];
      if (spec.embeddedScript !== undefined) {
        const embed = path.join(hostDir, 'embed.ipxe');
        await fs.promises.writeFile(embed, spec.embeddedScript, { mode: 0o444 });
        binds.push(`${embed}:/pureboot/embed.ipxe:ro`);
        cmd.push('EMBED=/pureboot/embed.ipxe');
      }
      const cross = this.o.cross[spec.target];
      if (cross) cmd.push(`CROSS=${cross}`);
      try {
        container = await this.docker.createContainer({
          Image: tag,
          name: `pureboot-build-${spec.id}`,
          Cmd: cmd,
          WorkingDir: this.o.srcPath,
          Labels: { [BUILD_LABEL]: spec.id },
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          NetworkDisabled: true,
          HostConfig: { Binds: binds, NetworkMode: 'none', Memory: this.o.memoryMb * 1024 * 1024, AutoRemove: false },
        });
      } catch (err) {
        throw engineError(`cannot create the build container from ${tag}`, err);
      }
      if (spec.signal.aborted) throw aborted(spec);
      if (Object.keys(spec.configHeaders).length > 0) {
        try {
          await container.putArchive(tarOf(spec.configHeaders), { path: path.posix.join(this.o.srcPath, 'config', 'local') });
        } catch (err) {
          throw engineError('cannot copy the config/local headers into the container', err);
        }
      }
      const out = lineSplitter(spec.onLog);
      const err = lineSplitter(spec.onLog);
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      stdout.on('data', (d: Buffer) => out.push(d));
      stderr.on('data', (d: Buffer) => err.push(d));
      const attached = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      const streamDone = new Promise<void>((resolve) => {
        attached.on('end', resolve);
        attached.on('close', resolve);
        attached.on('error', () => resolve());
      });
      this.docker.modem.demuxStream(attached, stdout, stderr);
      if (spec.signal.aborted) throw aborted(spec);
      await container.start();
      this.logger?.debug({ build: spec.id, container: container.id, cmd }, 'builder-docker: build container started');
      if (spec.signal.aborted) await container.kill().catch(() => undefined);
      const result = (await container.wait()) as { StatusCode: number };
      await Promise.race([streamDone, new Promise((r) => setTimeout(r, 2000))]);
      out.flush();
      err.flush();
      if (wasAborted || spec.signal.aborted) throw aborted(spec);
      if (result.StatusCode !== 0) throw new BuilderError('failed', `make ${spec.target} exited with status ${result.StatusCode}`, result.StatusCode);
      let artifact: Buffer | undefined;
      try {
        artifact = await firstFileOf(await container.getArchive({ path: path.posix.join(this.o.srcPath, spec.target) }), MAX_ARTIFACT);
      } catch {
        artifact = undefined;
      }
      if (!artifact) throw new BuilderError('failed', `make ${spec.target} succeeded but wrote no ${spec.target}`, 0);
      return { artifact, exitCode: 0 };
    } finally {
      spec.signal.removeEventListener('abort', onAbort);
      if (container) await container.remove({ force: true, v: true }).catch((e: unknown) => this.logger?.warn({ err: e, build: spec.id }, 'builder-docker: cannot remove the build container'));
      await fs.promises.rm(hostDir, { recursive: true, force: true });
    }
  }

  /** Build containers of this backend that still exist (normally none once builds settle). */
  async leftoverContainers(): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [BUILD_LABEL] } });
    return list.map((c) => `${c.Names.join(',')} (${c.State})`);
  }

  /** Remove build containers a crash left behind (called at start). */
  async removeLeftovers(): Promise<void> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [BUILD_LABEL] } });
    await Promise.all(list.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
}

function aborted(spec: BuildSpec): BuilderError {
  const reason = spec.signal.reason instanceof Error ? spec.signal.reason.message : 'aborted';
  return new BuilderError('aborted', `build ${spec.id} aborted: ${reason}`);
}
