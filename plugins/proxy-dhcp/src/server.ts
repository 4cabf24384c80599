import type { Endpoint, Logger } from '@pureboot/core';
import type { ProxyAnswer, ProxyDhcpHandler, ProxyPort } from './handler';
import { UdpEndpoint } from './transport';

/**
 * Ports 67 and 4011 wired to the handler: each datagram is handled, the answer waits its rule's
 * delay, leaves from the socket it came in on, then the observers hear about it.
 */
export class ProxyDhcpServer {
  private readonly dhcp: UdpEndpoint;
  private readonly bootServer: UdpEndpoint;
  /**
   * Without an interface, a second port-67 socket bound to serverAddress: Linux sends limited
   * broadcasts (255.255.255.255) out of the device that owns a socket's bound source address, while
   * a 0.0.0.0 socket needs a route (ENETUNREACH on a LAN without a default route). Every port-67
   * answer leaves from it; unicasts to serverAddress:67 arrive on it (the more specific bind).
   */
  private readonly sender: UdpEndpoint | undefined;
  private senderOpen = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly handler: ProxyDhcpHandler,
    where: { address: string; port: number; bootServerPort: number; interface?: string; serverAddress?: string },
    private readonly logger: Logger,
  ) {
    this.dhcp = new UdpEndpoint({ address: where.address, port: where.port, key: 'proxy-dhcp.port', device: where.interface }, (d, r) => this.receive(d, r, 'dhcp'), logger);
    if (!where.interface && where.address === '0.0.0.0' && where.serverAddress) {
      this.sender = new UdpEndpoint({ address: where.serverAddress, port: where.port, key: 'proxy-dhcp.serverAddress' }, (d, r) => this.receive(d, r, 'dhcp'), logger);
    }
    this.bootServer = new UdpEndpoint({ address: where.address, port: where.bootServerPort, key: 'proxy-dhcp.bootServerPort', device: where.interface }, (d, r) => this.receive(d, r, 'boot-server'), logger);
  }

  async start(): Promise<void> {
    await this.dhcp.open();
    try {
      await this.bootServer.open();
    } catch (err) {
      await this.dhcp.close();
      throw err;
    }
    if (this.sender) {
      try {
        await this.sender.open();
        this.senderOpen = true;
      } catch (err) {
        this.logger.warn({ err }, 'proxy-dhcp: cannot bind a socket to serverAddress; broadcast answers need a route to 255.255.255.255 (set proxy-dhcp.interface)');
      }
    }
    this.logger.info({ port: this.dhcp.port, bootServerPort: this.bootServer.port }, `proxy DHCP listening on ${this.dhcp.port}/udp and ${this.bootServer.port}/udp`);
  }

  get ports(): { dhcp: number; bootServer: number } {
    return { dhcp: this.dhcp.port, bootServer: this.bootServer.port };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.dhcp.close(), this.bootServer.close(), this.sender?.close()]);
    await Promise.allSettled([...this.inflight]);
  }

  private receive(data: Buffer, remote: Endpoint, port: ProxyPort): void {
    const work = this.handler
      .handle(data, remote, port)
      .then((answer) => {
        if (!answer || this.stopped) return;
        if (answer.delayMs > 0) {
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.track(this.send(answer));
          }, answer.delayMs);
          this.timers.add(t);
          return;
        }
        return this.send(answer);
      })
      .catch((err: unknown) => this.logger.error({ err }, 'proxy-dhcp: handling a datagram failed'));
    this.track(work);
  }

  private async send(answer: ProxyAnswer): Promise<void> {
    if (this.stopped) return;
    try {
      const socket = answer.port === 'boot-server' ? this.bootServer : this.sender && this.senderOpen ? this.sender : this.dhcp;
      await socket.send(answer.data, answer.to);
    } catch (err) {
      this.handler.sendFailed(answer, err as Error);
      return;
    }
    await this.handler.sent(answer);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
