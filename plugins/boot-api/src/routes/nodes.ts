import { NODE_STATES, notify, type NodeRecord, type NodeState } from '@pureboot/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearer, callbackToken, tokensEqual } from '../auth';
import { BootApiError, BootApiErrorCodes } from '../errors';
import { labelProblems } from '../labels';
import { TRANSITIONS } from '../lifecycle';
import { normaliseMac } from '../mac';
import { labelsSchema } from '../options';
import { baseUrlFor, clientAddress } from '../server';
import { bearerSecurity, errorSchema, macParam, type RouteContext } from './context';
import { bootQuerySchema } from './boot';
import type { BootQuery } from '../boot-flow';

export const nodeSchema = {
  type: 'object',
  properties: {
    mac: { type: 'string' },
    state: { type: 'string', enum: [...NODE_STATES] },
    version: { type: 'integer' },
    arch: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    profile: { type: 'string' },
    attributes: { type: 'object', additionalProperties: true },
    firstSeen: { type: 'number' },
    lastSeen: { type: 'number' },
    stateSince: { type: 'number' },
    history: {
      type: 'array',
      items: { type: 'object', properties: { from: { type: ['string', 'null'] }, to: { type: 'string' }, at: { type: 'number' }, reason: { type: 'string' }, actor: { type: 'string' } } },
    },
  },
};

const nodeReply = { 200: nodeSchema, 401: errorSchema, 404: errorSchema };

function macOf(raw: string): string {
  const mac = normaliseMac(raw);
  if (!mac) throw new BootApiError(BootApiErrorCodes.INVALID_MAC, 400, `"${raw.slice(0, 40)}" is not a MAC address (aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff)`);
  return mac;
}

function notFound(mac: string): BootApiError {
  return new BootApiError(BootApiErrorCodes.NODE_NOT_FOUND, 404, `no machine ${mac}`, { mac });
}

function checkLabels(labels: Record<string, unknown> | undefined): void {
  const problems = labelProblems(labels ?? {});
  if (problems.length) throw new BootApiError(BootApiErrorCodes.INVALID_LABEL, 400, problems.join('; '));
}

export const CALLBACK_EVENTS = ['started', 'progress', 'installed', 'failed'] as const;
type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/** Machine registry: list, get, create, patch, transition, delete, installer callbacks, timeline, explain. */
export function nodeRoutes(c: RouteContext): void {
  const { app, nodeStore, lifecycle, clock } = c;
  const auth = { preHandler: app.requireToken };

  app.get<{ Querystring: { state?: NodeState; arch?: string; profile?: string; label?: string[]; limit: number; cursor?: string } }>(
    '/api/v1/nodes',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'List machines (filters and paging)',
        security: bearerSecurity,
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: [...NODE_STATES] },
            arch: { type: 'string', maxLength: 32 },
            profile: { type: 'string', maxLength: 63 },
            label: { type: 'array', items: { type: 'string', pattern: '^[^=]+=.*$', maxLength: 320 }, description: 'key=value, repeatable; all must match' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: 'string', maxLength: 512 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: nodeSchema }, nextCursor: { type: 'string' } } }, 401: errorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const labels = q.label?.length ? Object.fromEntries(q.label.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) : undefined;
      return nodeStore.list({ state: q.state, arch: q.arch, profile: q.profile, labels, limit: q.limit, cursor: q.cursor });
    },
  );

  app.post<{ Body: { mac: string; state: 'discovered' | 'pending'; arch?: string; labels?: Record<string, string>; profile?: string } }>(
    '/api/v1/nodes',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'Register a machine ahead of its first boot (discovered, or pending to install on first boot)',
        security: bearerSecurity,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['mac'],
          properties: { mac: { type: 'string', maxLength: 17 }, state: { type: 'string', enum: ['discovered', 'pending'], default: 'discovered' }, arch: { type: 'string', maxLength: 32 }, labels: labelsSchema, profile: { type: 'string', maxLength: 63 } },
        },
        response: { 201: nodeSchema, 400: errorSchema, 401: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const mac = macOf(b.mac);
      checkLabels(b.labels);
      if (b.profile && !c.catalog.getProfile(b.profile)) throw new BootApiError(BootApiErrorCodes.PROFILE_NOT_FOUND, 400, `profile "${b.profile}" does not exist`);
      const res = await lifecycle.register({ mac, state: b.state, arch: b.arch, labels: b.labels, profile: b.profile, now: clock.now(), reason: 'registered through the API' }, 'api');
      if (!res.created) throw new BootApiError(BootApiErrorCodes.NODE_EXISTS, 409, `machine ${mac} already exists`, { mac });
      return reply.code(201).send(res.node);
    },
  );

  app.get<{ Params: { mac: string } }>('/api/v1/nodes/:mac', { ...auth, schema: { tags: ['nodes'], summary: 'One machine', security: bearerSecurity, params: macParam, response: nodeReply } }, async (request) => {
    const mac = macOf(request.params.mac);
    const node = await nodeStore.get(mac);
    if (!node) throw notFound(mac);
    return node;
  });

  app.patch<{ Params: { mac: string }; Body: { labels?: Record<string, string | null>; profile?: string | null; attributes?: Record<string, unknown> } }>(
    '/api/v1/nodes/:mac',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'Change labels (merged; null removes), profile (null clears) or attributes (merged)',
        security: bearerSecurity,
        params: macParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            labels: { type: 'object', maxProperties: 64, additionalProperties: { type: ['string', 'null'], maxLength: 256 } },
            profile: { type: ['string', 'null'], maxLength: 63 },
            attributes: { type: 'object', maxProperties: 64, additionalProperties: true },
          },
        },
        response: { ...nodeReply, 400: errorSchema, 409: errorSchema },
      },
    },
    async (request) => {
      const mac = macOf(request.params.mac);
      const b = request.body;
      checkLabels(b.labels);
      if (typeof b.profile === 'string' && !c.catalog.getProfile(b.profile)) throw new BootApiError(BootApiErrorCodes.PROFILE_NOT_FOUND, 400, `profile "${b.profile}" does not exist`);
      for (let attempt = 0; attempt < 8; attempt++) {
        const node = await nodeStore.get(mac);
        if (!node) throw notFound(mac);
        let labels: Record<string, string> | undefined;
        if (b.labels) {
          labels = { ...node.labels };
          for (const [k, v] of Object.entries(b.labels)) {
            if (v === null) delete labels[k];
            else labels[k] = v;
          }
        }
        const res = await nodeStore.update(mac, node.version, { labels, profile: b.profile, attributes: b.attributes });
        if (res.ok) {
          void notify(c.hooks.bootEvent, { mac, at: clock.now(), source: 'api', kind: 'api.patch', detail: { labels: b.labels, profile: b.profile } }, c.logger);
          return res.node;
        }
        if (res.reason === 'not-found') throw notFound(mac);
      }
      throw new BootApiError(BootApiErrorCodes.CONFLICT, 409, `machine ${mac} kept changing; try again`);
    },
  );

  app.delete<{ Params: { mac: string } }>(
    '/api/v1/nodes/:mac',
    { ...auth, schema: { tags: ['nodes'], summary: 'Forget a machine (its timeline stays)', security: bearerSecurity, params: macParam, response: { 204: { type: 'null' }, 401: errorSchema, 404: errorSchema } } },
    async (request, reply) => {
      const mac = macOf(request.params.mac);
      if (!(await nodeStore.delete(mac))) throw notFound(mac);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { mac: string }; Body: { to: NodeState; reason?: string } }>(
    '/api/v1/nodes/:mac/transition',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'Move a machine to another lifecycle state (reinstall = to pending)',
        security: bearerSecurity,
        params: macParam,
        body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: { type: 'string', enum: [...NODE_STATES] }, reason: { type: 'string', maxLength: 500 } } },
        response: { ...nodeReply, 409: errorSchema },
      },
    },
    async (request) => {
      const mac = macOf(request.params.mac);
      const { to, reason } = request.body;
      const res = await lifecycle.transition(mac, to, { reason: reason ?? `requested through the API`, actor: 'api' });
      if (res.ok) return res.node;
      if (res.reason === 'not-found') throw notFound(mac);
      if (res.reason === 'not-allowed') {
        throw new BootApiError(BootApiErrorCodes.TRANSITION, 409, `machine ${mac} is ${res.node.state}: it can go to ${TRANSITIONS[res.node.state].join(', ')}, not ${to}`, { mac, from: res.node.state, to });
      }
      throw new BootApiError(BootApiErrorCodes.CONFLICT, 409, `machine ${mac} kept changing; try again`);
    },
  );

  // Installer callbacks: the API token, or the machine's own callback token from its install script.
  const callbackAuth = async (request: FastifyRequest<{ Params: { mac: string }; Querystring: { token?: string } }>, reply: FastifyReply) => {
    const mac = normaliseMac(request.params.mac);
    const expected = c.tokenHolder.token;
    if (!expected) throw new BootApiError(BootApiErrorCodes.NOT_STARTED, 503, 'the boot API is not started yet');
    const given = request.query.token ?? bearer(request.headers.authorization);
    if (given && (tokensEqual(given, expected) || (mac && tokensEqual(given, callbackToken(expected, mac))))) return;
    void reply.header('www-authenticate', 'Bearer realm="pureboot"');
    throw new BootApiError(BootApiErrorCodes.UNAUTHORIZED, 401, 'installer callbacks need the callback token of the install script (?token=…) or the API token');
  };

  app.post<{ Params: { mac: string }; Querystring: { token?: string; event?: CallbackEvent }; Body: { event?: CallbackEvent; message?: string; progress?: number } | undefined }>(
    '/api/v1/nodes/:mac/events',
    {
      config: { bootEndpoint: true },
      onRequest: callbackAuth,
      schema: {
        tags: ['nodes'],
        summary: 'Installer callback: started, progress, installed, failed (JSON or form body, or ?event=)',
        security: [{ bearer: [] }, { callbackToken: [] }],
        params: macParam,
        querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 128 }, event: { type: 'string', enum: [...CALLBACK_EVENTS] } } },
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { event: { type: 'string', enum: [...CALLBACK_EVENTS] }, message: { type: 'string', maxLength: 2000 }, progress: { type: 'number', minimum: 0, maximum: 100 } },
        },
        response: { 200: { type: 'object', properties: { mac: { type: 'string' }, state: { type: 'string' }, changed: { type: 'boolean' } } }, 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (request) => {
      const mac = macOf(request.params.mac);
      const event = request.body?.event ?? request.query.event;
      if (!event) throw new BootApiError(BootApiErrorCodes.TRANSITION, 400, 'say which event: {"event": "started|progress|installed|failed"} or ?event=…');
      const message = request.body?.message;
      const progress = request.body?.progress;
      void notify(c.hooks.bootEvent, { mac, address: clientAddress(request), at: clock.now(), source: 'http', kind: `callback.${event}`, detail: { message, progress } }, c.logger);
      const node = await nodeStore.get(mac);
      if (!node) throw notFound(mac);
      const plan: Record<CallbackEvent, { to?: NodeState; from: NodeState[]; idle: NodeState[] }> = {
        started: { to: 'installing', from: ['pending'], idle: ['installing'] },
        progress: { from: [], idle: ['installing'] },
        installed: { to: 'installed', from: ['installing'], idle: ['installed', 'active'] },
        failed: { to: 'failed', from: ['installing', 'pending'], idle: ['failed'] },
      };
      const p = plan[event];
      let current: NodeRecord = node;
      if (p.to && p.from.includes(current.state)) {
        const res = await lifecycle.transition(mac, p.to, { from: p.from, reason: `installer callback: ${event}${message ? ` (${message.slice(0, 200)})` : ''}`, actor: 'callback' });
        if (res.ok) {
          c.metrics.callbacks.inc({ event, result: 'transition' });
          return { mac, state: res.node.state, changed: true };
        }
        if (res.reason === 'not-found') throw notFound(mac);
        current = res.node;
      }
      if (p.idle.includes(current.state)) {
        c.metrics.callbacks.inc({ event, result: 'no-change' });
        return { mac, state: current.state, changed: false };
      }
      c.metrics.callbacks.inc({ event, result: 'rejected' });
      throw new BootApiError(BootApiErrorCodes.TRANSITION, 409, `callback "${event}" does not apply to machine ${mac} in state ${current.state}`, { mac, state: current.state, event });
    },
  );

  app.get<{ Params: { mac: string }; Querystring: { after?: number; limit: number } }>(
    '/api/v1/nodes/:mac/timeline',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'The cross-protocol boot timeline: DHCP, TFTP, HTTP scripts and assets, callbacks, state changes',
        security: bearerSecurity,
        params: macParam,
        querystring: { type: 'object', properties: { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              mac: { type: 'string' },
              events: {
                type: 'array',
                items: { type: 'object', properties: { seq: { type: 'integer' }, at: { type: 'number' }, source: { type: 'string' }, kind: { type: 'string' }, detail: { type: 'object', additionalProperties: true } } },
              },
            },
          },
          401: errorSchema,
        },
      },
    },
    async (request) => {
      const mac = macOf(request.params.mac);
      const events = await c.bootEvents.list(mac, { afterSeq: request.query.after, limit: request.query.limit });
      return { mac, events };
    },
  );

  app.get<{ Querystring: BootQuery }>(
    '/api/v1/explain',
    {
      ...auth,
      schema: {
        tags: ['nodes'],
        summary: 'Dry run of /api/v1/boot: the matched profile/group, what each scriptRender tap did, the script',
        security: bearerSecurity,
        querystring: bootQuerySchema,
        response: { 400: errorSchema, 401: errorSchema },
      },
    },
    async (request) => c.flow.explain(request.query, { address: clientAddress(request) }, baseUrlFor(request, c.options.publicUrl)),
  );
}
