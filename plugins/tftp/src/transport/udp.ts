import dgram from 'node:dgram';
import { bindError, busyPoller, literalLookup, type Endpoint } from '@pureboot/core';

/** A bound UDP socket that only moves bytes: no TFTP knowledge here. */
export interface UdpSocket {
  readonly local: Endpoint;
  send(buf: Buffer, to: Endpoint): void;
  /** Several datagrams to one endpoint in one go (a window: one sendmmsg on the native transport). */
  sendMany?(bufs: Buffer[], to: Endpoint): void;
  /** Datagrams handed to send() that the kernel has not taken yet (their buffers are still in use). */
  pendingSends(): number;
  close(): void;
}

export type DatagramHandler = (buf: Buffer, from: Endpoint) => void;

export interface BindOptions {
  address: string;
  port: number;
  recvBufferBytes?: number;
  /** Datagrams read per wake-up on the native transport (1 for a transfer socket; the listener drains bursts). dgram reads up to 32. */
  readsPerWake?: number;
  /** Native transport: hand each datagram to JS at once, microtasks included, instead of with the turn's batch (the listener). */
  immediate?: boolean;
  /**
   * Native transport: datagrams sent while a turn's received datagrams are handled go out together
   * (one io_uring system call for all such sockets), and such sockets readable at once are read
   * together, where the kernel has io_uring. dgram ignores it.
   */
  ioUring?: boolean;
  /** After each send, keep the event loop polling this long for the answer (core BusyPoller; 0: off). */
  busyPollUs?: number;
  /** Name used in bind errors (`tftp`). */
  plugin: string;
  onMessage: DatagramHandler;
  /** Socket errors after binding (send failures are reported here, never thrown). */
  onError: (err: Error) => void;
}

/** Bind a UDP socket; bind failures become core's coded errors (PB_ERR_PORT_PRIVILEGED/IN_USE …). */
export function bindUdp(o: BindOptions): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    let bound = false;
    let closed = false;
    sock.on('error', (err) => {
      if (!bound) {
        bound = true;
        try {
          sock.close();
        } catch {
          /* not open */
        }
        reject(bindError(err, { protocol: 'udp', address: o.address, port: o.port, plugin: o.plugin }));
        return;
      }
      o.onError(err);
    });
    // dgram's rinfo is an Endpoint (address, port; family and size besides): handed on as it is.
    sock.on('message', o.onMessage);
    sock.bind({ address: o.address, port: o.port, exclusive: true }, () => {
      bound = true;
      if (o.recvBufferBytes) {
        try {
          sock.setRecvBufferSize(o.recvBufferBytes);
        } catch {
          /* capped by net.core.rmem_max; the default still works */
        }
      }
      const a = sock.address();
      const busyUs = o.busyPollUs ?? 0;
      resolve({
        local: { address: a.address, port: a.port },
        send(buf, to) {
          if (closed) return;
          // No per-datagram callback (cheaper on the hot path): send errors arrive as 'error' events.
          sock.send(buf, to.port, to.address);
          if (busyUs > 0) busyPoller.poke(busyUs);
        },
        pendingSends() {
          return closed ? 0 : sock.getSendQueueCount();
        },
        close() {
          if (closed) return;
          closed = true;
          try {
            sock.close();
          } catch {
            /* already closed */
          }
        },
      });
    });
  });
}
