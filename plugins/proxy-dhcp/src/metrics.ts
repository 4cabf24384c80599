import { Counter, type Registry } from 'prom-client';

/** The proxy's Prometheus metrics in the shared registry (services.metrics). */
export function createProxyMetrics(registry: Registry) {
  const registers = [registry];
  return {
    received: new Counter({ name: 'pureboot_proxy_dhcp_received_total', help: 'Datagrams received by the proxy, by port (67 or 4011) and DHCP message type', labelNames: ['port', 'type'], registers }),
    dropped: new Counter({ name: 'pureboot_proxy_dhcp_dropped_total', help: 'Datagrams the proxy did not answer, by category (malformed, not-for-us, policy, hook-error, no-answer, send-error)', labelNames: ['category'], registers }),
    replies: new Counter({ name: 'pureboot_proxy_dhcp_replies_total', help: 'Proxy answers sent, by message type and kind (binary, script, http, menu, boot-server)', labelNames: ['type', 'kind'], registers }),
  };
}

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>;
