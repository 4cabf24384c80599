import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { BuilderError, BuilderErrorCodes, type BuilderBackend, type Logger } from '@pureboot/core';
import { ArtifactCache, cacheKey, type CacheEntryMeta } from './cache';
import { IpxeError, IpxeErrorCodes } from './errors';
import { configHeaders } from './features';
import type { BuildRequest } from './inputs';
import type { IpxeMetrics } from './metrics';
import { embeddedScript } from './script';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed-out';
export type JobPhase = 'queued' | 'preparing' | 'building' | 'storing' | 'done';
const FINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed-out']);

/** What the API returns for a build. */
export interface JobView {
  id: string;
  key: string;
  status: JobStatus;
  phase: JobPhase;
  /** 0 … 1 (build lines seen against the last build of this target). */
  progress: number;
  /** Served from the cache without running make. */
  cached: boolean;
  target: string;
  name?: string;
  features: string[];
  embed?: { server: string; port: number; scheme: string };
  backend: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: { code: string; message: string; exitCode?: number };
  artifact?: { file: string; size: number; sha256: string; paths: string[] };
}

/** One build: its state, progress and log lines; emits `line` (string), `update` and `end`. */
export class Job extends EventEmitter {
  readonly log: string[] = [];
  droppedLines = 0;
  readonly abort = new AbortController();
  abortedAs: 'cancelled' | 'timed-out' | undefined;
  objects = 0;
  done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly view: JobView,
    readonly request: BuildRequest,
    readonly script: string | undefined,
    readonly headers: Record<string, string>,
    private readonly maxLogLines: number,
  ) {
    super();
    this.setMaxListeners(0);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get finished(): boolean {
    return FINAL.has(this.view.status);
  }

  addLine(line: string): void {
    this.log.push(line);
    if (this.log.length > this.maxLogLines) {
      this.log.shift();
      this.droppedLines++;
    }
    this.emit('line', line);
  }

  update(change: Partial<JobView>): void {
    Object.assign(this.view, change);
    this.emit('update', this.view);
    if (this.finished) {
      this.emit('end', this.view);
      this.resolveDone();
    }
  }
}

export interface BuildQueueDeps {
  backend: BuilderBackend;
  cache: ArtifactCache;
  logger: Logger;
  metrics?: IpxeMetrics;
  /** Paths the artifacts are served at (through fileResolve). */
  servedPaths(key: string, file: string, name?: string): string[];
  concurrency: number;
  timeoutMs: number;
  maxQueued: number;
  maxLogLines: number;
  /** Finished jobs kept in memory for the API. */
  keepFinished: number;
}

/** Object lines iPXE prints per target (learned from the last build; a first guess before that). */
const FIRST_GUESS_OBJECTS = 400;

/**
 * The build job queue: at most `concurrency` builds run at once, each within `timeoutMs`; the rest
 * wait in order. A request whose cache key is already built finishes at once (cached); one whose key
 * is being built joins that build.
 */
export class BuildQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private readonly running = new Set<Job>();
  private readonly byKey = new Map<string, Job>();
  private expectedObjects: Record<string, number> | undefined;
  private stopped = false;

  constructor(private readonly d: BuildQueueDeps) {}

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new IpxeError(IpxeErrorCodes.BUILD_NOT_FOUND, 404, `no build ${JSON.stringify(id)} (builds are kept in memory until ${this.d.keepFinished} newer ones finished or PureBoot restarts)`);
    return job;
  }

  list(): JobView[] {
    return [...this.jobs.values()].map((j) => j.view).reverse();
  }

  stats(): { queued: number; running: number } {
    return { queued: this.waiting.length, running: this.running.size };
  }

  async submit(req: BuildRequest): Promise<Job> {
    if (this.stopped) throw new IpxeError(IpxeErrorCodes.QUEUE_FULL, 503, 'PureBoot is stopping: no new builds');
    const script = req.embed ? embeddedScript(req.embed) : undefined;
    const headers = configHeaders(req.features);
    let sourceRevision: string;
    try {
      sourceRevision = await this.d.backend.sourceRevision();
    } catch (err) {
      throw new IpxeError(BuilderErrorCodes.BACKEND, 503, `the ${this.d.backend.name} backend cannot name its iPXE source revision: ${(err as Error).message}`);
    }
    const key = cacheKey({ sourceRevision, target: req.target, configHeaders: headers, embeddedScript: script });
    const file = path.posix.basename(req.target);
    const view: JobView = {
      id: `b-${crypto.randomBytes(6).toString('hex')}`,
      key,
      status: 'queued',
      phase: 'queued',
      progress: 0,
      cached: false,
      target: req.target,
      ...(req.name ? { name: req.name } : {}),
      features: req.features,
      ...(req.embed ? { embed: { server: req.embed.server, port: req.embed.port, scheme: req.embed.scheme } } : {}),
      backend: this.d.backend.name,
      createdAt: Date.now(),
    };
    const inFlight = this.byKey.get(key);
    if (inFlight && !inFlight.finished) {
      if (req.name) void inFlight.done.then(() => (inFlight.view.status === 'succeeded' ? this.publish(req.name as string, key) : undefined));
      return inFlight;
    }
    const job = new Job(view, req, script, headers, this.d.maxLogLines);
    const hit = await this.d.cache.get(key);
    if (hit) {
      this.remember(job);
      for (const l of await this.d.cache.readLog(key)) job.addLine(l);
      if (req.name) await this.publish(req.name, key);
      this.d.metrics?.cacheHits.inc();
      this.d.metrics?.builds.inc({ outcome: 'cached' });
      job.update({ status: 'succeeded', phase: 'done', progress: 1, cached: true, startedAt: view.createdAt, finishedAt: Date.now(), artifact: this.artifactView(hit, req.name) });
      return job;
    }
    if (this.waiting.length >= this.d.maxQueued) throw new IpxeError(IpxeErrorCodes.QUEUE_FULL, 429, `${this.waiting.length} builds are already waiting (ipxe-builder.maxQueued); try again later`);
    this.remember(job);
    this.byKey.set(key, job);
    this.waiting.push(job);
    this.gauge();
    this.pump();
    return job;
  }

  /** Cancel a queued or running build (no effect on a finished one). */
  cancel(id: string): Job {
    const job = this.get(id);
    if (job.finished) return job;
    const i = this.waiting.indexOf(job);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.gauge();
      this.finishWithError(job, 'cancelled', IpxeErrorCodes.CANCELLED, 'cancelled before it started');
      return job;
    }
    job.abortedAs ??= 'cancelled';
    job.abort.abort(new Error('cancelled through the API'));
    return job;
  }

  /** Cancel everything and wait for running builds to clean up. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const j of [...this.waiting]) this.cancel(j.view.id);
    const running = [...this.running];
    for (const j of running) this.cancel(j.view.id);
    await Promise.all(running.map((j) => j.done));
  }

  private remember(job: Job): void {
    this.jobs.set(job.view.id, job);
    const finished = [...this.jobs.values()].filter((j) => j.finished);
    for (const j of finished.slice(0, Math.max(0, finished.length - this.d.keepFinished))) {
      this.jobs.delete(j.view.id);
      if (this.byKey.get(j.view.key) === j) this.byKey.delete(j.view.key);
    }
  }

  private gauge(): void {
    this.d.metrics?.queue.set({ state: 'queued' }, this.waiting.length);
    this.d.metrics?.queue.set({ state: 'running' }, this.running.size);
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.d.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      this.running.add(job);
      this.gauge();
      void this.run(job).finally(() => {
        this.running.delete(job);
        this.gauge();
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const started = Date.now();
    job.update({ status: 'running', phase: 'preparing', progress: 0.02, startedAt: started });
    const timer = setTimeout(() => {
      job.abortedAs ??= 'timed-out';
      job.abort.abort(new Error(`timed out after ${this.d.timeoutMs} ms`));
    }, this.d.timeoutMs);
    const expected = await this.expectedFor(job.view.target);
    try {
      await this.d.backend.prepare((l) => job.addLine(l));
      job.update({ phase: 'building', progress: 0.05 });
      let lastShown = 0;
      const result = await this.d.backend.build({
        id: job.view.id,
        target: job.request.target,
        embeddedScript: job.script,
        configHeaders: job.headers,
        signal: job.abort.signal,
        onLog: (line) => {
          job.addLine(line);
          if (/^\s*\[[A-Z]+\]/.test(line)) {
            job.objects++;
            const p = Math.min(0.95, 0.05 + (0.9 * job.objects) / Math.max(expected, job.objects + 1));
            if (p - lastShown >= 0.01) {
              lastShown = p;
              job.update({ progress: Math.round(p * 100) / 100 });
            }
          }
        },
      });
      job.update({ phase: 'storing', progress: 0.97 });
      const meta = await this.d.cache.put(
        {
          key: job.view.key,
          target: job.request.target,
          file: path.posix.basename(job.request.target),
          sourceRevision: await this.d.backend.sourceRevision(),
          backend: this.d.backend.name,
          builtAt: Date.now(),
          features: job.request.features,
          embedded: job.script !== undefined,
        },
        result.artifact,
        job.log,
      );
      if (job.request.name) await this.publish(job.request.name, job.view.key);
      await this.learnObjects(job.view.target, job.objects);
      this.d.metrics?.builds.inc({ outcome: 'succeeded' });
      this.d.metrics?.duration.observe((Date.now() - started) / 1000);
      job.update({ status: 'succeeded', phase: 'done', progress: 1, finishedAt: Date.now(), artifact: this.artifactView(meta, job.request.name) });
    } catch (err) {
      if (job.abortedAs === 'timed-out') this.finishWithError(job, 'timed-out', IpxeErrorCodes.TIMEOUT, `the build ran into its ${this.d.timeoutMs} ms timeout and was killed`);
      else if (job.abortedAs === 'cancelled') this.finishWithError(job, 'cancelled', IpxeErrorCodes.CANCELLED, 'cancelled while running; the build was killed');
      else if (err instanceof BuilderError || err instanceof IpxeError) this.finishWithError(job, 'failed', err.code, err.message, err instanceof BuilderError ? err.exitCode : undefined);
      else this.finishWithError(job, 'failed', IpxeErrorCodes.CACHE, (err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  private finishWithError(job: Job, status: JobStatus, code: string, message: string, exitCode?: number): void {
    this.d.logger.warn({ build: job.view.id, target: job.view.target, code }, `iPXE build ${job.view.id} ${status}: ${message}`);
    this.d.metrics?.builds.inc({ outcome: status });
    job.update({ status, phase: 'done', finishedAt: Date.now(), error: { code, message, ...(exitCode !== undefined ? { exitCode } : {}) } });
  }

  private async publish(name: string, key: string): Promise<void> {
    await this.d.cache.setName(name, key);
  }

  private artifactView(meta: CacheEntryMeta, name?: string): JobView['artifact'] {
    return { file: meta.file, size: meta.size, sha256: meta.sha256, paths: this.d.servedPaths(meta.key, meta.file, name) };
  }

  private async expectedFor(target: string): Promise<number> {
    if (!this.expectedObjects) {
      try {
        this.expectedObjects = JSON.parse(await fs.promises.readFile(path.join(this.d.cache.root, 'progress.json'), 'utf8')) as Record<string, number>;
      } catch {
        this.expectedObjects = {};
      }
    }
    const n = this.expectedObjects[`${this.d.backend.name}:${target}`];
    return typeof n === 'number' && n > 0 ? n : FIRST_GUESS_OBJECTS;
  }

  private async learnObjects(target: string, count: number): Promise<void> {
    if (count <= 0 || !this.expectedObjects) return;
    this.expectedObjects[`${this.d.backend.name}:${target}`] = count;
    try {
      await fs.promises.writeFile(path.join(this.d.cache.root, 'progress.json'), `${JSON.stringify(this.expectedObjects)}\n`);
    } catch (err) {
      this.d.logger.debug({ err }, 'ipxe-builder: cannot record the object count');
    }
  }
}
