import fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { IPXE_TARGETS } from '@pureboot/core';
import { IpxeError, IpxeErrorCodes } from './errors';
import { FEATURE_NAMES } from './features';
import { EMBED_KEYS, FALLBACKS, parseBuildRequest, type EmbedSpec } from './inputs';
import type { BuildQueue, Job } from './jobs';
import type { ArtifactCache } from './cache';

declare module 'fastify' {
  interface FastifyInstance {
    /** Decorated by @pureboot/plugin-boot-api (its server.ts): 401 without the API bearer token. */
    requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/** Route schema with the OpenAPI fields @fastify/swagger (registered by boot-api) reads. */
const doc = (s: Record<string, unknown>): FastifySchema => s as FastifySchema;

export interface RouteDeps {
  app: FastifyInstance;
  queue: BuildQueue;
  cache: ArtifactCache;
  embedDefaults: Partial<EmbedSpec>;
}

const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^b-[0-9a-f]{12}$' } } } as const;

/** The JSON schema of POST /api/v1/ipxe/builds (parseBuildRequest checks everything again). */
export const buildBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: {
    target: { type: 'string', enum: [...IPXE_TARGETS] },
    name: { type: 'string', maxLength: 100 },
    features: { type: 'array', maxItems: FEATURE_NAMES.length, items: { type: 'string', enum: [...FEATURE_NAMES] } },
    embed: {
      anyOf: [
        { type: 'boolean', enum: [false] },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            server: { type: 'string', maxLength: 253 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            scheme: { type: 'string', enum: ['http', 'https'] },
            chainPath: { type: 'string', maxLength: 200 },
            dhcpRetries: { type: 'integer', minimum: 1, maximum: 1000 },
            chainRetries: { type: 'integer', minimum: 1, maximum: 1000 },
            requireBootInfo: { type: 'boolean' },
            fallback: { type: 'string', enum: [...FALLBACKS] },
          } satisfies Record<(typeof EMBED_KEYS)[number], unknown>,
        },
      ],
    },
  },
} as const;

function sse(event: string, data: string): string {
  return `event: ${event}\n${data
    .split('\n')
    .map((l) => `data: ${l}`)
    .join('\n')}\n\n`;
}

/**
 * Build API on the boot API's fastify instance; every route needs the API token.
 * POST /api/v1/ipxe/builds, GET /api/v1/ipxe/builds, GET …/:id, GET …/:id/log (server-sent events),
 * GET …/:id/artifact, DELETE …/:id (cancel).
 */
export function buildRoutes(d: RouteDeps): void {
  const { app, queue } = d;
  const guard = { preHandler: app.requireToken };

  app.post('/api/v1/ipxe/builds', { ...guard, schema: doc({ summary: 'Request an iPXE build (answered from the cache when built before)', tags: ['ipxe'], body: buildBodySchema }) }, async (request, reply) => {
    const req = parseBuildRequest(request.body, d.embedDefaults);
    const job = await queue.submit(req);
    void reply.code(job.finished ? 200 : 202).header('location', `/api/v1/ipxe/builds/${job.view.id}`);
    return job.view;
  });

  app.get('/api/v1/ipxe/builds', { ...guard, schema: doc({ summary: 'Recent iPXE builds, newest first', tags: ['ipxe'] }) }, async () => ({ items: queue.list(), ...queue.stats() }));

  app.get<{ Params: { id: string } }>('/api/v1/ipxe/builds/:id', { ...guard, schema: doc({ summary: 'Status and progress of one build', tags: ['ipxe'], params: idParams }) }, async (request) => queue.get(request.params.id).view);

  app.delete<{ Params: { id: string } }>('/api/v1/ipxe/builds/:id', { ...guard, schema: doc({ summary: 'Cancel a queued or running build', tags: ['ipxe'], params: idParams }) }, async (request) => {
    const job = queue.cancel(request.params.id);
    await Promise.race([job.done, new Promise((r) => setTimeout(r, 100))]);
    return job.view;
  });

  app.get<{ Params: { id: string } }>('/api/v1/ipxe/builds/:id/artifact', { ...guard, schema: doc({ summary: 'Download the built binary', tags: ['ipxe'], params: idParams }) }, async (request, reply) => {
    const job = queue.get(request.params.id);
    if (job.view.status !== 'succeeded' || !job.view.artifact) throw new IpxeError(IpxeErrorCodes.NOT_READY, 409, `build ${job.view.id} is ${job.view.status}: no artifact`);
    const meta = await d.cache.get(job.view.key);
    if (!meta) throw new IpxeError(IpxeErrorCodes.CACHE, 500, `the artifact of build ${job.view.id} is no longer in the cache`);
    void reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(meta.size))
      .header('etag', `"${meta.sha256}"`)
      .header('content-disposition', `attachment; filename="${meta.file}"`);
    return reply.send(fs.createReadStream(d.cache.artifactPath(job.view.key)));
  });

  app.get<{ Params: { id: string } }>('/api/v1/ipxe/builds/:id/log', { ...guard, schema: doc({ summary: 'The build log as server-sent events (log, progress, end)', tags: ['ipxe'], params: idParams }) }, async (request, reply) => {
    const job = queue.get(request.params.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    streamLog(job, (chunk) => res.write(chunk), () => res.end(), (onClose) => request.raw.on('close', onClose));
  });
}

/** Send the log so far, then follow it: `log` per line, `progress` on changes, `end` with the final status. */
export function streamLog(job: Job, write: (chunk: string) => void, end: () => void, onClientGone: (fn: () => void) => void): void {
  if (job.droppedLines > 0) write(sse('log', `[… ${job.droppedLines} earlier lines dropped]`));
  for (const l of job.log) write(sse('log', l));
  if (job.finished) {
    write(sse('end', JSON.stringify(job.view)));
    end();
    return;
  }
  write(sse('progress', JSON.stringify({ status: job.view.status, phase: job.view.phase, progress: job.view.progress })));
  const onLine = (l: string) => write(sse('log', l));
  let last = '';
  const onUpdate = () => {
    const p = JSON.stringify({ status: job.view.status, phase: job.view.phase, progress: job.view.progress });
    if (p !== last) write(sse('progress', p));
    last = p;
  };
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), 15_000);
  const cleanup = () => {
    clearInterval(keepAlive);
    job.off('line', onLine);
    job.off('update', onUpdate);
    job.off('end', onEnd);
  };
  const onEnd = () => {
    cleanup();
    write(sse('end', JSON.stringify(job.view)));
    end();
  };
  job.on('line', onLine);
  job.on('update', onUpdate);
  job.on('end', onEnd);
  onClientGone(cleanup);
}
