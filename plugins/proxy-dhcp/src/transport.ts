import dgram from 'node:dgram';
import { bindError, type Endpoint, type Logger } from '@pureboot/core';
import { bindToDevice } from '@pureboot/plugin-dhcp';
import { ProxyDhcpError, ProxyDhcpErrorCodes } from './errors';

/**
 * One UDP socket that only moves bytes: bound with SO_REUSEADDR (so a site DHCP server on the same
 * host can share port 67), SO_BROADCAST (proxy offers are broadcast) and, when an interface is
 * configured, SO_BINDTODEVICE (only that link is heard and answered).
 */
export class UdpEndpoint {
  private socket: dgram.Socket | undefined;

  constructor(
    private readonly where: { address: string; port: number; key: string; device?: string },
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
    if (this.where.device) {
      try {
        bindToDevice(s, this.where.device);
      } catch (err) {
        s.close();
        throw new ProxyDhcpError(
          ProxyDhcpErrorCodes.BIND_DEVICE,
          `proxy-dhcp: cannot bind port ${this.where.port} to interface ${this.where.device} (SO_BINDTODEVICE: ${(err as Error).message}); check proxy-dhcp.interface, and run as root or with CAP_NET_RAW`,
          { interface: this.where.device, port: this.where.port },
        );
      }
    }
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
