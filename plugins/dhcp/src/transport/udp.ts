import dgram from 'node:dgram';
import { bindError } from '@pureboot/core';
import { DhcpCodecError, DhcpErrorCodes } from '../codec/errors';
import type { ListenOptions } from '../options';
import { bindToDevice, inNetns } from './native';

export interface Inbound {
  data: Buffer;
  from: { address: string; port: number };
  listen: ListenOptions;
}

export interface UdpTransportOptions {
  listen: ListenOptions[];
  port: number;
  /** Open the sockets inside this network namespace (name or path). */
  netns?: string;
  plugin: string;
}

/**
 * Moves DHCP datagrams, nothing else: one UDP socket on 0.0.0.0:<port> per configured link, bound to
 * its interface with SO_BINDTODEVICE so a direct client is answered on the link it spoke on. Without
 * an interface name the socket listens on every interface.
 */
export class UdpTransport {
  private readonly sockets: Array<{ socket: dgram.Socket; listen: ListenOptions }> = [];

  constructor(private readonly opts: UdpTransportOptions) {}

  async start(onMessage: (m: Inbound) => void): Promise<void> {
    const links = this.opts.listen.length > 0 ? this.opts.listen : [{ address: '0.0.0.0' }];
    try {
      for (const listen of links) {
        const open = () => this.open(listen, onMessage);
        const socket = this.opts.netns ? inNetns(this.opts.netns, open) : open();
        this.sockets.push({ socket, listen });
        await new Promise<void>((resolve, reject) => {
          const fail = (err: Error) => reject(bindError(err, { protocol: 'udp', address: '0.0.0.0', port: this.opts.port, plugin: this.opts.plugin, key: 'dhcp.port' }));
          const early = bindErrors.get(socket);
          if (early) return fail(early);
          if (listening.has(socket)) return resolve();
          socket.once('listening', () => resolve());
          socket.once('error', fail);
        });
        socket.setBroadcast(true);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private open(listen: ListenOptions, onMessage: (m: Inbound) => void): dgram.Socket {
    // A synchronous lookup makes bind() create the socket right here (inside a namespace when asked).
    const socket = dgram.createSocket({
      type: 'udp4',
      reuseAddr: true,
      recvBufferSize: 4 * 1024 * 1024,
      sendBufferSize: 4 * 1024 * 1024,
      lookup: ((host: string, _o: unknown, cb?: (err: Error | null, address: string, family: number) => void) => {
        const done = (typeof _o === 'function' ? _o : cb) as (err: Error | null, address: string, family: number) => void;
        done(null, host, 4);
      }) as unknown as dgram.SocketOptions['lookup'],
    });
    socket.on('message', (data, rinfo) => onMessage({ data, from: { address: rinfo.address, port: rinfo.port }, listen }));
    // bind() may fail synchronously here; keep the error for start() instead of throwing.
    socket.once('listening', () => listening.add(socket));
    socket.on('error', (err) => {
      if (!listening.has(socket)) bindErrors.set(socket, err);
    });
    socket.bind({ port: this.opts.port, address: '0.0.0.0', exclusive: true });
    if (bindErrors.has(socket)) return socket;
    if (listen.interface) {
      try {
        bindToDevice(socket, listen.interface);
      } catch (err) {
        socket.close();
        throw new DhcpCodecError(DhcpErrorCodes.BIND_DEVICE, `cannot bind the DHCP socket to interface ${listen.interface}: ${(err as Error).message} (needs root or CAP_NET_RAW, and the interface must exist)`, {
          interface: listen.interface,
        });
      }
    }
    return socket;
  }

  send(listen: ListenOptions, data: Buffer, to: { address: string; port: number }): Promise<void> {
    const entry = this.sockets.find((s) => s.listen === listen) ?? this.sockets[0];
    if (!entry) return Promise.resolve();
    return new Promise((resolve, reject) => entry.socket.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    for (const { socket } of this.sockets.splice(0)) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

const bindErrors = new WeakMap<dgram.Socket, Error>();
const listening = new WeakSet<dgram.Socket>();
