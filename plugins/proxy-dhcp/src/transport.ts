import dgram from 'node:dgram';
import { bindError, type Endpoint, type Logger } from '@pureboot/core';

/**
 * One UDP socket that only moves bytes: bound with SO_REUSEADDR (so a site DHCP server on the same
 * host can share port 67) and SO_BROADCAST (proxy offers go to 255.255.255.255).
 */
export class UdpEndpoint {
  private socket: dgram.Socket | undefined;

  constructor(
    private readonly where: { address: string; port: number; key: string },
    private readonly onMessage: (data: Buffer, remote: Endpoint) => void,
    private readonly logger: Logger,
  ) {}

  async open(): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
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

  send(data: Buffer, to: Endpoint): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.reject(new Error('socket is closed'));
    return new Promise((resolve, reject) => s.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
