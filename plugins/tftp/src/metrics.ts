import { FastCounter } from '@pureboot/core';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The TFTP server's Prometheus metrics, registered in the shared registry (services.metrics).
 * `activeTransfers` is read when the registry is (a gauge with collect()), not set on every change.
 */
export function createMetrics(registry: Registry, activeTransfers: () => number) {
  const registers = [registry];
  return {
    // Per-request, per-transfer and per-packet counters: FastCounter (a Map addition per call, handed to
    // prom-client when read). prom-client's own inc() and set() hash their labels on every call: in a
    // boot storm's request phase they were about 5 % of the server's time.
    requests: FastCounter.in(registry, { name: 'pureboot_tftp_requests_total', help: 'TFTP requests received, by opcode (RRQ, WRQ)', labelNames: ['op'] }),
    transfers: FastCounter.in(registry, { name: 'pureboot_tftp_transfers_total', help: 'TFTP transfers finished, by result (done, failed) and reason', labelNames: ['result', 'reason'] }),
    active: new Gauge({
      name: 'pureboot_tftp_active_transfers',
      help: 'TFTP transfers in progress',
      registers,
      collect() {
        this.set(activeTransfers());
      },
    }),
    bytes: FastCounter.in(registry, { name: 'pureboot_tftp_bytes_sent_total', help: 'File bytes sent in DATA packets (first transmissions)', labelNames: [] }),
    retransmits: FastCounter.in(registry, { name: 'pureboot_tftp_retransmits_total', help: 'DATA/OACK packets sent again after a timeout or a window gap', labelNames: [] }),
    duplicateAcks: FastCounter.in(registry, { name: 'pureboot_tftp_duplicate_acks_total', help: 'Duplicate ACKs ignored (no DATA is sent for them: Sorcerer\'s Apprentice)', labelNames: [] }),
    dropped: new Counter({ name: 'pureboot_tftp_dropped_total', help: 'TFTP datagrams dropped, by category (malformed, policy, hook-error, unexpected, duplicate, wrong-tid)', labelNames: ['category'], registers }),
    errorsSent: new Counter({ name: 'pureboot_tftp_errors_sent_total', help: 'TFTP ERROR packets sent, by TFTP error code', labelNames: ['code'], registers }),
    refused: new Counter({ name: 'pureboot_tftp_refused_total', help: 'Requests refused, by reason (not-found, denied, busy, read-only, open-failed)', labelNames: ['reason'], registers }),
    cacheHits: FastCounter.in(registry, { name: 'pureboot_tftp_cache_hits_total', help: 'Transfers served from the hot-file cache', labelNames: [] }),
    nativeData: FastCounter.in(registry, { name: 'pureboot_tftp_native_data_total', help: 'DATA packets the native data plane sent by itself, answering in-order ACKs of cached files (tftp.dataPlane)', labelNames: [] }),
    cacheLoads: FastCounter.in(registry, { name: 'pureboot_tftp_cache_loads_total', help: 'Files read into the hot-file cache', labelNames: [] }),
  };
}

export type TftpMetrics = ReturnType<typeof createMetrics>;
