import { FastCounter, FastHistogram } from '@pureboot/core';
import { Counter, type Registry } from 'prom-client';

/** The boot API's Prometheus metrics, registered in the shared core registry (services.metrics). */
export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    // Counted on every boot request: FastCounter (a Map addition; prom-client sees the totals when scraped).
    boots: FastCounter.in(registry, { name: 'pureboot_boot_scripts_total', help: 'Machine scripts served by /api/v1/boot, by lifecycle state, architecture and script kind', labelNames: ['state', 'arch', 'kind'] }),
    scriptSeconds: new FastHistogram(
      {
        name: 'pureboot_boot_script_duration_seconds',
        help: 'Time to build a machine script (store, lifecycle, scriptRender taps)',
        labelNames: ['kind'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      },
      registry,
    ),
    transitions: new Counter({ name: 'pureboot_node_transitions_total', help: 'Lifecycle transitions, by from and to state', labelNames: ['from', 'to'], registers }),
    bootEvents: FastCounter.in(registry, { name: 'pureboot_boot_events_total', help: 'Boot events seen, by source and whether a MAC could be attributed', labelNames: ['source', 'attributed'] }),
    bootEventsDropped: FastCounter.in(registry, { name: 'pureboot_boot_events_dropped_total', help: 'Boot events not stored in the timeline: too many waiting for the store (backlog) or the store failed (error)', labelNames: ['source', 'reason'] }),
    callbacks: new Counter({ name: 'pureboot_installer_callbacks_total', help: 'Installer callbacks, by event and result', labelNames: ['event', 'result'], registers }),
    assets: new Counter({ name: 'pureboot_http_asset_requests_total', help: 'Asset requests, by HTTP status', labelNames: ['status'], registers }),
    assetBytes: new Counter({ name: 'pureboot_http_asset_bytes_total', help: 'Asset bytes sent over HTTP', registers }),
  };
}

export type BootApiMetrics = ReturnType<typeof createMetrics>;
