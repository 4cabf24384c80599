import { ipToInt, notify, type Clock, type LeaseEvent, type LeaseState, type LeaseStore, type Logger, type PurebootHooks } from '@pureboot/core';
import { leaseView } from './lease-view';

/** The part of the boot API's fastify instance these routes use (the plugin does not import fastify). */
export interface RouteApp {
  get(path: string, opts: Record<string, unknown>, handler: (req: RouteRequest, reply: RouteReply) => Promise<unknown>): unknown;
  post(path: string, opts: Record<string, unknown>, handler: (req: RouteRequest, reply: RouteReply) => Promise<unknown>): unknown;
  requireToken?: unknown;
}
interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}
interface RouteReply {
  code(n: number): RouteReply;
  send(body: unknown): RouteReply;
}

const STATES: LeaseState[] = ['offered', 'bound', 'released', 'declined', 'expired'];
const IP = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Lease routes on the boot API (when it is loaded): GET /api/v1/leases, GET /api/v1/leases/:key
 * (address or MAC), POST /api/v1/leases/:address/release (token). Used by `pureboot leases …`.
 */
export function leaseRoutes(app: RouteApp, deps: { store: () => LeaseStore; clock: Clock; hooks: PurebootHooks; logger: Logger }): void {
  app.get(
    '/api/v1/leases',
    {
      schema: {
        summary: 'DHCP leases (paged)',
        tags: ['dhcp'],
        querystring: {
          type: 'object',
          properties: { subnet: { type: 'string' }, state: { enum: STATES }, cursor: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await deps.store().list({ subnetId: q.subnet, state: q.state as LeaseState | undefined, cursor: q.cursor, limit: q.limit ? Number(q.limit) : 100 });
      return { items: page.items.map(leaseView), nextCursor: page.nextCursor };
    },
  );
  app.get('/api/v1/leases/:key', { schema: { summary: 'The lease of an address, or the leases of a MAC', tags: ['dhcp'] } }, async (req, reply) => {
    const key = req.params.key.toLowerCase();
    if (IP.test(key)) {
      let n: number;
      try {
        n = ipToInt(key);
      } catch {
        return reply.code(400).send({ code: 'PB_ERR_DHCP_BAD_VALUE', message: `not an IPv4 address: ${key}` });
      }
      const l = await deps.store().findByAddress(n);
      if (!l) return reply.code(404).send({ message: `no lease for ${key}` });
      return { items: [leaseView(l)] };
    }
    const mac = key.replace(/-/g, ':');
    const items = await deps.store().findByMac(mac);
    if (items.length === 0) return reply.code(404).send({ message: `no lease for ${mac}` });
    return { items: items.map(leaseView) };
  });
  app.post(
    '/api/v1/leases/:address/release',
    { preHandler: app.requireToken, schema: { summary: 'Release a lease (the address returns to the pool)', tags: ['dhcp'] } },
    async (req, reply) => {
      const address = req.params.address;
      if (!IP.test(address)) return reply.code(400).send({ message: `not an IPv4 address: ${address}` });
      const n = ipToInt(address);
      const l = await deps.store().findByAddress(n);
      if (!l || (l.state !== 'bound' && l.state !== 'offered')) return reply.code(404).send({ message: `no active lease for ${address}` });
      const released = await deps.store().release(n, l.clientId, deps.clock.now());
      if (!released) return reply.code(409).send({ message: `the lease of ${address} changed meanwhile; retry` });
      void notify<LeaseEvent>(deps.hooks.leaseCommitted, { kind: 'released', lease: released }, deps.logger);
      return leaseView(released);
    },
  );
}
