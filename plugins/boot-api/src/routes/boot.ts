import fs from 'node:fs';
import { chainScript, DEFAULT_ASCII_LOGO } from '../chain';
import type { BootQuery } from '../boot-flow';
import { baseUrlFor, clientAddress } from '../server';
import { errorSchema, type RouteContext } from './context';

const machineVar = (description: string) => ({ type: 'string', maxLength: 128, description });

export const bootQuerySchema = {
  type: 'object',
  required: ['mac'],
  properties: {
    mac: { type: 'string', maxLength: 17, description: 'MAC address (colon or hyphen form, iPXE ${mac:hexhyp})' },
    arch: machineVar('Architecture: iPXE buildarch (x86_64), buildarch-platform (x86_64-efi) or a PXE name (bios, uefi-x86_64)'),
    buildarch: machineVar('iPXE ${buildarch}'),
    platform: machineVar('iPXE ${platform} (pcbios, efi)'),
    uuid: machineVar('SMBIOS UUID (${uuid})'),
    serial: machineVar('SMBIOS serial (${serial})'),
    hostname: machineVar('DHCP hostname (${hostname})'),
    ip: machineVar('The client IPv4 address (${ip})'),
  },
};

/** The machine-facing routes: the boot script, the chain script, the logo. */
export function bootRoutes(c: RouteContext): void {
  const { app, options } = c;
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
    async (request, reply) => {
      const res = await c.flow.boot(request.query, { address: clientAddress(request) }, baseUrlFor(request, options.publicUrl));
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(res.script);
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
