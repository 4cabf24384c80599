import dgram from 'node:dgram';
import { bindError, literalLookup, type Endpoint, type Logger } from '@pureboot/core';
import { setUnicastInterface } from './native';

/**
 * One UDP socket that only moves bytes: bound with SO_REUSEADDR (so a site DHCP server on the same
 * host can share port 67) and SO_BROADCAST. Sends are serialised so that a broadcast can be pinned
 * to one interface (IP_UNICAST_IF) for exactly that send.
 */
export class UdpEndpoint {
  private socket: dgram.Socket | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly where: { address: string; port: number; key: string },
    private readonly onMessage: (data: Buffer, remote: Endpoint) => void,
    private readonly logger: Logger,
  ) {}

  async open(): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        s.close();
        reject(bindError(err, { protocol: 'udp', address: this.where.address, port: this.where.port, plugin: 'proxy-dhcp', key: this.where.key }));
      };
      s.once('error', onError);
      s.bind(this.where.port, this.where.address, () => {
        s.off('error', onError);
        resolve();
      });
    });
    s.setBroadcast(true);
    s.on('error', (err) => this.logger.error({ err, port: this.where.port }, 'proxy-dhcp: socket error'));
    s.on('message', (data, rinfo) => this.onMessage(data, { address: rinfo.address, port: rinfo.port }));
    this.socket = s;
  }

  /** The bound port (useful when configured as 0 in tests). */
  get port(): number {
    return this.socket?.address().port ?? this.where.port;
  }

  /** Send one datagram; with `ifindex`, it leaves by that interface (needed for 255.255.255.255 without a route). */
  send(data: Buffer, to: Endpoint, ifindex?: number): Promise<void> {
    const run = async () => {
      const s = this.socket;
      if (!s) throw new Error('socket is closed');
      if (ifindex) setUnicastInterface(s, ifindex);
      try {
        await new Promise<void>((resolve, reject) => s.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve())));
      } finally {
        if (ifindex && this.socket === s) setUnicastInterface(s, 0);
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
