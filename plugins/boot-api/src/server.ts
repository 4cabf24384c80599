import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '@pureboot/core';
import { bearer, tokensEqual } from './auth';
import { BootApiError, BootApiErrorCodes } from './errors';
import type { BootApiOptions } from './options';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for mutating routes: `{ preHandler: app.requireToken }` (401 without the API bearer token). */
    requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyContextConfig {
    /** A route machines call while booting: limited to allowedClientNetworks. */
    bootEndpoint?: boolean;
  }
}

/** Holder for the API token (loaded or generated when PureBoot starts). */
export interface TokenHolder {
  token?: string;
}

/** The fastify instance behind the `http` service (routes are added in apply(); listen() in onStart). */
export function createApp(o: BootApiOptions, logger: Logger, tokenHolder: TokenHolder): FastifyInstance {
  const app = Fastify({
    // fastify gets the logger only when it logs every request: with a logger, fastify also times each
    // response and listens for its 'finish' and 'error' events, and makes a child logger per request
    // (together about 5 000 instructions of a 110 000-instruction boot request, callgrind). Without
    // request logs, errors are logged by the onError hook below.
    ...(o.requestLogs ? { loggerInstance: logger as unknown as FastifyBaseLogger } : {}),
    bodyLimit: o.bodyLimit,
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    trustProxy: o.trustProxy,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false } },
  });
  if (!o.requestLogs) logErrors(app, logger);
  app.decorate('requireToken', async (request: FastifyRequest, reply: FastifyReply) => {
    const expected = tokenHolder.token;
    if (!expected) throw new BootApiError(BootApiErrorCodes.NOT_STARTED, 503, 'the boot API is not started yet');
    const given = bearer(request.headers.authorization);
    if (!given || !tokensEqual(given, expected)) {
      void reply.header('www-authenticate', 'Bearer realm="pureboot"');
      throw new BootApiError(BootApiErrorCodes.UNAUTHORIZED, 401, 'this route needs the API token: Authorization: Bearer <token> (see <dataDir>/boot-api.token)');
    }
  });
  // Authenticate before the body is read or validated: a route that lists requireToken as a preHandler
  // (the documented way) gets it moved to onRequest, so an unauthenticated request is a 401 whatever its body.
  app.addHook('onRoute', (route) => {
    const pre = route.preHandler;
    const list = Array.isArray(pre) ? pre : pre ? [pre] : [];
    if (!list.includes(app.requireToken as never)) return;
    const rest = list.filter((f) => f !== (app.requireToken as never));
    route.preHandler = rest.length ? rest : undefined;
    const on = route.onRequest;
    route.onRequest = [app.requireToken as never, ...(Array.isArray(on) ? on : on ? [on] : [])];
  });
  // Installers post callbacks as forms too (busybox wget --post-data).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  return app;
}

/**
 * What fastify's error handler logs when it has a logger: server errors (5xx) at error with the
 * request, client errors (4xx) at info. An onError hook runs only for requests that fail.
 */
function logErrors(app: FastifyInstance, logger: Logger): void {
  app.addHook('onError', (request, _reply, error, done) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const req = { reqId: request.id, method: request.method, url: request.url, client: clientAddress(request), statusCode: status };
    if (status >= 500) logger.error({ ...req, err: error }, error.message);
    else logger.info({ ...req, err: { code: (error as { code?: string }).code, message: error.message } }, error.message);
    done();
  });
}

/** The client's address without the IPv4-mapped prefix. */
export function clientAddress(request: FastifyRequest): string {
  const ip = request.ip ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

const HOST_RE = /^(?:(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The last Host header that passed HOST_RE (machines of one site all send the same one). */
let lastHost = { host: '', url: '' };

/**
 * The base URL scripts use: `publicUrl` when configured, else `http://<Host header>` when that header
 * is a plain host[:port], else the local address the request came in on. A Host header with anything
 * else (spaces, `${`, `||` …) never reaches a script.
 */
export function baseUrlFor(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.endsWith('/') ? publicUrl.replace(/\/+$/, '') : publicUrl;
  const host = request.headers.host;
  if (host) {
    if (host === lastHost.host) return lastHost.url;
    if (HOST_RE.test(host)) {
      lastHost = { host, url: `http://${host}` };
      return lastHost.url;
    }
  }
  const local = (request.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const port = request.socket.localPort ?? 80;
  return local.includes(':') ? `http://[${local}]:${port}` : `http://${local}:${port}`;
}
