import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IpxeMetrics {
  builds: Counter<'outcome'>;
  cacheHits: Counter;
  queue: Gauge<'state'>;
  duration: Histogram;
}

export function createMetrics(registry: Registry): IpxeMetrics {
  const existing = registry.getSingleMetric('pureboot_ipxe_builds_total');
  if (existing) {
    return {
      builds: existing as Counter<'outcome'>,
      cacheHits: registry.getSingleMetric('pureboot_ipxe_cache_hits_total') as Counter,
      queue: registry.getSingleMetric('pureboot_ipxe_build_queue') as Gauge<'state'>,
      duration: registry.getSingleMetric('pureboot_ipxe_build_duration_seconds') as Histogram,
    };
  }
  return {
    builds: new Counter({ name: 'pureboot_ipxe_builds_total', help: 'iPXE build requests by outcome (succeeded, cached, failed, cancelled, timed-out)', labelNames: ['outcome'], registers: [registry] }),
    cacheHits: new Counter({ name: 'pureboot_ipxe_cache_hits_total', help: 'iPXE build requests answered from the artifact cache', registers: [registry] }),
    queue: new Gauge({ name: 'pureboot_ipxe_build_queue', help: 'iPXE builds waiting and running', labelNames: ['state'], registers: [registry] }),
    duration: new Histogram({ name: 'pureboot_ipxe_build_duration_seconds', help: 'Time of iPXE builds that ran make (queue wait excluded)', buckets: [1, 5, 15, 30, 60, 120, 300, 600], registers: [registry] }),
  };
}
