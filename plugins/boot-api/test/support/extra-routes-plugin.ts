// A plugin that adds its own routes to the boot API's fastify instance, the way the DHCP plugin adds
// /api/v1/leases: one read-only route, one mutating route behind app.requireToken.
import { definePlugin } from '@pureboot/core';

export default definePlugin({
  name: 'extra-routes',
  core: '^0.1.0',
  dependencies: ['boot-api'],
  apply(ctx) {
    const app = ctx.services.http;
    app.get('/api/v1/extra', { schema: { summary: 'read-only extra route' } }, async () => ({ ok: true }));
    app.post('/api/v1/extra/reset', { preHandler: app.requireToken, schema: { summary: 'mutating extra route', body: { type: 'object' } } }, async () => ({ reset: true }));
  },
});
