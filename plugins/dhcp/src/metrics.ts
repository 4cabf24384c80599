import { FastCounter } from '@pureboot/core';
import { Gauge, type Registry } from 'prom-client';

export interface DhcpMetrics {
  received: FastCounter<'type'>;
  sent: FastCounter<'type'>;
  dropped: FastCounter<'category'>;
  exhausted: FastCounter<'subnet'>;
  leases: FastCounter<'kind'>;
  tftpDoneTracked: Gauge;
}

/** prom-client metrics of the DHCP plugin, registered once per registry (packet counters are FastCounters). */
export function createMetrics(registry: Registry): DhcpMetrics {
  const counter = <L extends string>(name: string, help: string, label: L) => FastCounter.in(registry, { name, help, labelNames: [label] });
  return {
    received: counter('pureboot_dhcp_packets_received_total', 'Decoded DHCP requests by message type', 'type'),
    sent: counter('pureboot_dhcp_packets_sent_total', 'DHCP replies sent by message type', 'type'),
    dropped: counter('pureboot_dhcp_packets_dropped_total', 'DHCP datagrams dropped, by category (malformed, policy, rate-limit, not-for-us, exhausted, hook-error, store-error …)', 'category'),
    exhausted: counter('pureboot_dhcp_pool_exhausted_total', 'DISCOVERs left unanswered because the subnet had no free address', 'subnet'),
    leases: counter('pureboot_dhcp_lease_events_total', 'Lease changes (offered, bound, renewed, released, declined, expired)', 'kind'),
    tftpDoneTracked:
      (registry.getSingleMetric('pureboot_dhcp_tftp_done_macs') as Gauge | undefined) ??
      new Gauge({ name: 'pureboot_dhcp_tftp_done_macs', help: 'MACs remembered as having fetched the stage-1 binary (ipxeDetection after-tftp)', registers: [registry] }),
  };
}
