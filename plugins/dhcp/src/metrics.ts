import { Counter, Gauge, type Registry } from 'prom-client';

export interface DhcpMetrics {
  received: Counter<'type'>;
  sent: Counter<'type'>;
  dropped: Counter<'category'>;
  exhausted: Counter<'subnet'>;
  leases: Counter<'kind'>;
  tftpDoneTracked: Gauge;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** prom-client metrics of the DHCP plugin, registered once per registry. */
export function createMetrics(registry: Registry): DhcpMetrics {
  const registers = [registry];
  return {
    received: reuse(registry, 'pureboot_dhcp_packets_received_total', () => new Counter({ name: 'pureboot_dhcp_packets_received_total', help: 'Decoded DHCP requests by message type', labelNames: ['type'], registers })),
    sent: reuse(registry, 'pureboot_dhcp_packets_sent_total', () => new Counter({ name: 'pureboot_dhcp_packets_sent_total', help: 'DHCP replies sent by message type', labelNames: ['type'], registers })),
    dropped: reuse(registry, 'pureboot_dhcp_packets_dropped_total', () => new Counter({ name: 'pureboot_dhcp_packets_dropped_total', help: 'DHCP datagrams dropped, by category (malformed, policy, rate-limit, not-for-us, exhausted, hook-error, store-error …)', labelNames: ['category'], registers })),
    exhausted: reuse(registry, 'pureboot_dhcp_pool_exhausted_total', () => new Counter({ name: 'pureboot_dhcp_pool_exhausted_total', help: 'DISCOVERs left unanswered because the subnet had no free address', labelNames: ['subnet'], registers })),
    leases: reuse(registry, 'pureboot_dhcp_lease_events_total', () => new Counter({ name: 'pureboot_dhcp_lease_events_total', help: 'Lease changes (offered, bound, renewed, released, declined, expired)', labelNames: ['kind'], registers })),
    tftpDoneTracked: reuse(registry, 'pureboot_dhcp_tftp_done_macs', () => new Gauge({ name: 'pureboot_dhcp_tftp_done_macs', help: 'MACs remembered as having fetched the stage-1 binary (ipxeDetection after-tftp)', registers })),
  };
}
