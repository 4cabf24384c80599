import type { RouteContext } from './context';

/** /health, /metrics and the OpenAPI document. */
export function opsRoutes(c: RouteContext): void {
  const { app } = c;
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness and readiness: plugins and their state, storage reachability',
        response: {
          200: { type: 'object', additionalProperties: true },
          503: { type: 'object', additionalProperties: true },
        },
      },
    },
    async (_request, reply) => {
      const started = Date.now();
      let storage: { status: 'ok' | 'error'; latencyMs: number; error?: string };
      try {
        await c.nodeStore.get('00:00:00:00:00:00');
        storage = { status: 'ok', latencyMs: Date.now() - started };
      } catch (err) {
        storage = { status: 'error', latencyMs: Date.now() - started, error: (err as Error).message };
      }
      const phase = c.health.phase;
      const ok = phase === 'started' && storage.status === 'ok';
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : phase === 'started' ? 'degraded' : phase === 'loaded' ? 'starting' : 'stopping',
        uptimeSec: c.health.startedAt ? Math.round((Date.now() - c.health.startedAt) / 1000) : 0,
        plugins: c.health.plugins.map((name) => ({ name, state: phase === 'loaded' ? 'loading' : phase })),
        storage,
      });
    },
  );

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (every plugin adds to one registry)', response: { 200: { type: 'string' } } } }, async (_request, reply) => {
    const text = await c.registry.metrics();
    return reply.type(c.registry.contentType).send(text);
  });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
