import path from 'node:path';
import { notify, type FileFound } from '@pureboot/core';
import { clientAddress } from '../server';
import type { RouteContext } from './context';

const TYPES: Record<string, string> = {
  '.ipxe': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.iso': 'application/x-iso9660-image',
};

export type RangeResult = { kind: 'none' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/** One `bytes=` range (RFC 9110 §14.1.2). Several ranges or a malformed header: ignored (whole file). */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'none' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return size === 0 ? { kind: 'unsatisfiable' } : { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end };
}

function etagOf(f: FileFound): string {
  if (f.etag) return f.etag;
  return `W/"${f.size.toString(16)}-${Math.floor(f.mtimeMs ?? 0).toString(16)}"`;
}

function etagMatches(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

/** Boot assets (kernels, initrds, images) through the fileResolve hook, with Range, ETag and HEAD. */
export function assetRoutes(c: RouteContext): void {
  c.app.route<{ Params: { '*': string } }>({
    method: ['GET', 'HEAD'],
    url: '/api/v1/assets/*',
    // HEAD is answered by this handler itself (fastify's automatic HEAD route would zero Content-Length).
    exposeHeadRoute: false,
      config: { bootEndpoint: true },
      schema: {
        tags: ['boot'],
        summary: 'A boot asset resolved through the fileResolve hook (static root by default); Range, ETag, If-None-Match, HEAD',
        params: { type: 'object', properties: { '*': { type: 'string', maxLength: 1024 } } },
      },
    handler: async (request, reply) => {
      const startedAt = Date.now();
      const address = clientAddress(request);
      const requested = request.params['*'];
      const mac = await c.timeline.macFor(address);
      const resolution = await c.hooks.fileResolve.promise({ protocol: 'http', path: requested, client: { address, port: request.socket.remotePort, mac } });
      const report = (status: number, bytes: number, extra: Record<string, unknown> = {}) => {
        c.metrics.assets.inc({ status: String(status) });
        if (bytes) c.metrics.assetBytes.inc(bytes);
        void notify(c.hooks.bootEvent, { mac, address, at: c.clock.now(), source: 'http', kind: 'http.asset', detail: { path: requested, status, bytes, durationMs: Date.now() - startedAt, ...extra } }, c.logger);
      };
      if (!resolution || resolution.status === 'not-found') {
        report(404, 0);
        return reply.code(404).type('text/plain').send(`not found: ${requested}\n`);
      }
      if (resolution.status === 'denied') {
        report(403, 0, { reason: resolution.reason });
        return reply.code(403).type('text/plain').send(`denied: ${resolution.reason}\n`);
      }
      const f = resolution;
      const etag = etagOf(f);
      void reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', 'no-cache');
      void reply.type(f.contentType ?? TYPES[path.extname(requested).toLowerCase()] ?? 'application/octet-stream');
      if (f.mtimeMs !== undefined) void reply.header('last-modified', new Date(f.mtimeMs).toUTCString());
      const inm = request.headers['if-none-match'];
      const ims = request.headers['if-modified-since'];
      if ((inm && etagMatches(inm, etag)) || (!inm && ims && f.mtimeMs !== undefined && Math.floor(f.mtimeMs / 1000) <= Math.floor(Date.parse(ims) / 1000))) {
        report(304, 0);
        return reply.code(304).send();
      }
      const ifRange = request.headers['if-range'] as string | undefined;
      let range = parseRange(request.headers.range, f.size);
      if (ifRange && range.kind !== 'none' && ifRange.trim() !== etag) range = { kind: 'none' };
      if (range.kind === 'unsatisfiable') {
        report(416, 0);
        return reply.code(416).header('content-range', `bytes */${f.size}`).send();
      }
      const start = range.kind === 'range' ? range.start : 0;
      const end = range.kind === 'range' ? range.end : f.size - 1;
      const length = f.size === 0 ? 0 : end - start + 1;
      const status = range.kind === 'range' ? 206 : 200;
      void reply.code(status).header('content-length', String(length));
      if (status === 206) void reply.header('content-range', `bytes ${start}-${end}/${f.size}`);
      if (request.method === 'HEAD' || length === 0) {
        report(status, 0, { head: request.method === 'HEAD' });
        return reply.send(request.method === 'HEAD' ? undefined : '');
      }
      const reader = await f.open();
      const stream = reader.stream({ start, end });
      let closed = false;
      const finish = (ok: boolean) => {
        if (closed) return;
        closed = true;
        void reader.close().catch(() => undefined);
        report(status, ok ? length : 0, { range: status === 206 ? `${start}-${end}` : undefined, source: f.source, aborted: ok ? undefined : true });
      };
      stream.once('end', () => finish(true));
      stream.once('error', () => finish(false));
      reply.raw.once('close', () => finish(reply.raw.writableFinished));
      return reply.send(stream);
    },
  });
}
