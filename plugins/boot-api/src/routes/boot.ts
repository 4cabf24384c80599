import fs from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { chainScript, DEFAULT_ASCII_LOGO } from '../chain';
import type { BootQuery } from '../boot-flow';
import { baseUrlFor, clientAddress } from '../server';
import { WriteBatch } from '../write-batch';
import { errorSchema, type RouteContext } from './context';

/** A value stored as the client sent it: limited in length. */
const storedVar = (description: string) => ({ type: 'string', maxLength: 128, description });
/**
 * A value used only when it has one of a few fixed forms (checked in boot-flow and arch.ts), and
 * ignored otherwise: it needs no length limit of its own (ajv's maxLength counts code points, a loop
 * over the string on every boot request).
 */
const formVar = (description: string) => ({ type: 'string', description });

/** What iPXE can tell about the machine besides its MAC (query variables of the boot endpoints). */
const bootVariables = {
  arch: formVar('Architecture: iPXE buildarch (x86_64), buildarch-platform (x86_64-efi) or a PXE name (bios, uefi-x86_64)'),
  buildarch: formVar('iPXE ${buildarch}'),
  platform: formVar('iPXE ${platform} (pcbios, efi)'),
  uuid: formVar('SMBIOS UUID (${uuid}): 32-36 hex digits and hyphens'),
  serial: storedVar('SMBIOS serial (${serial})'),
  hostname: storedVar('DHCP hostname (${hostname})'),
  ip: formVar('The client IPv4 address (${ip}), dotted quad'),
};

export const bootQuerySchema = {
  type: 'object',
  required: ['mac'],
  properties: {
    mac: { type: 'string', maxLength: 17, description: 'MAC address (colon or hyphen form, iPXE ${mac:hexhyp})' },
    ...bootVariables,
  },
};

/** The machine-facing routes: the boot script, the chain script, the logo. */
export function bootRoutes(c: RouteContext): void {
  const { app, options } = c;
  const writes = new WriteBatch((err) => c.logger.error({ err }, 'boot-api: writing a boot response failed'));
  // A plain (not async) handler: fastify waits for reply.send. An async one would have to return
  // `reply`, whose adoption as a thenable makes fastify watch the response stream on every request.
  const serve = (request: FastifyRequest, reply: FastifyReply, query: BootQuery): void => {
    c.flow.boot(query, { address: clientAddress(request) }, baseUrlFor(request, options.publicUrl)).then(
      // Written with the other responses of this event-loop turn (WriteBatch).
      (res) => writes.defer(() => void reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(res.script)),
      (err: unknown) => void reply.send(err),
    );
  };

  app.get<{ Querystring: BootQuery }>(
    '/api/v1/boot',
    {
      config: { bootEndpoint: true },
      schema: {
        tags: ['boot'],
        summary: "The machine's iPXE script for its lifecycle state (through the scriptRender hook)",
        querystring: bootQuerySchema,
        response: { 200: { type: 'string', description: 'iPXE script' }, 400: errorSchema, 403: errorSchema },
      },
    },
    (request, reply) => serve(request, reply, request.query),
  );

  // The short form DHCP/proxy-DHCP hand to iPXE clients (docs: contracts, "PXE flow"):
  // http://<server>:<port>/boot/${mac}, optionally with the same query variables.
  app.get<{ Params: { mac: string }; Querystring: Omit<BootQuery, 'mac'> }>(
    '/boot/:mac',
    {
      config: { bootEndpoint: true },
      schema: {
        tags: ['boot'],
        summary: 'Same as /api/v1/boot?mac=…, with the MAC in the path (the script URL DHCP hands to iPXE)',
        params: { type: 'object', required: ['mac'], properties: { mac: bootQuerySchema.properties.mac } },
        querystring: { type: 'object', properties: bootVariables },
        response: { 200: { type: 'string', description: 'iPXE script' }, 400: errorSchema, 403: errorSchema },
      },
    },
    (request, reply) => {
      // The MAC joins the request's own parsed query (no copy of it per request).
      const q = request.query as BootQuery;
      q.mac = request.params.mac;
      serve(request, reply, q);
    },
  );

  app.get(
    '/api/v1/ipxe/boot.ipxe',
    {
      config: { bootEndpoint: true },
      schema: { tags: ['boot'], summary: 'The chain script: logo, menu with timeout, retrying chain to /api/v1/boot, local boot, shell', response: { 200: { type: 'string' } } },
    },
    async (request, reply) => {
      const script = chainScript({
        baseUrl: baseUrlFor(request, options.publicUrl),
        menuTimeoutMs: options.menuTimeoutMs,
        retries: options.chainRetries,
        asciiLogo: options.asciiLogo ?? DEFAULT_ASCII_LOGO,
        pngLogo: Boolean(c.pngLogo),
      });
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(script);
    },
  );

  if (c.pngLogo) {
    const file = c.pngLogo;
    app.get('/api/v1/ipxe/logo.png', { config: { bootEndpoint: true }, schema: { tags: ['boot'], summary: 'The PNG logo of the chain script' } }, async (_request, reply) => {
      const data = await fs.promises.readFile(file);
      return reply.type('image/png').send(data);
    });
  }
}
