import type { Endpoint, Logger } from '@pureboot/core';
import { ProxyDhcpError, ProxyDhcpErrorCodes } from './errors';
import type { ProxyAnswer, ProxyDhcpHandler, ProxyPort } from './handler';
import { interfaceIndex, interfaceOf } from './native';
import { UdpEndpoint } from './transport';

/**
 * Ports 67 and 4011 wired to the handler: each datagram is handled, the answer waits its rule's
 * delay, leaves from the socket it came in on, then the observers hear about it.
 *
 * Broadcast answers (255.255.255.255) are pinned to the serving interface (`interface`, else the one
 * holding serverAddress) with IP_UNICAST_IF: Linux routes a limited broadcast like any destination,
 * so a 0.0.0.0 socket gets ENETUNREACH on a LAN without a default route, and on a multi-homed host
 * the broadcast would leave by the default route's interface. The sockets are not bound to a device,
 * so a site DHCP server bound to that interface keeps receiving its unicasts (renewals, relays).
 */
export class ProxyDhcpServer {
  private readonly dhcp: UdpEndpoint;
  private readonly bootServer: UdpEndpoint;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;
  private broadcastIf: number | undefined;
  private warnedNoRoute = false;

  constructor(
    private readonly handler: ProxyDhcpHandler,
    private readonly where: { address: string; port: number; bootServerPort: number; interface?: string; serverAddress?: string },
    private readonly logger: Logger,
  ) {
    this.dhcp = new UdpEndpoint({ address: where.address, port: where.port, key: 'proxy-dhcp.port' }, (d, r) => this.receive(d, r, 'dhcp'), logger);
    this.bootServer = new UdpEndpoint({ address: where.address, port: where.bootServerPort, key: 'proxy-dhcp.bootServerPort' }, (d, r) => this.receive(d, r, 'boot-server'), logger);
  }

  async start(): Promise<void> {
    const ifname = this.where.interface ?? (this.where.serverAddress ? interfaceOf(this.where.serverAddress) : undefined);
    this.broadcastIf = ifname ? interfaceIndex(ifname) : undefined;
    if (this.where.interface && this.broadcastIf === undefined) {
      throw new ProxyDhcpError(ProxyDhcpErrorCodes.BIND_DEVICE, `proxy-dhcp: interface ${this.where.interface} does not exist in this network namespace (check proxy-dhcp.interface)`, { interface: this.where.interface });
    }
    await this.dhcp.open();
    try {
      await this.bootServer.open();
    } catch (err) {
      await this.dhcp.close();
      throw err;
    }
    this.logger.info({ port: this.dhcp.port, bootServerPort: this.bootServer.port, broadcastInterface: ifname }, `proxy DHCP listening on ${this.dhcp.port}/udp and ${this.bootServer.port}/udp`);
  }

  get ports(): { dhcp: number; bootServer: number } {
    return { dhcp: this.dhcp.port, bootServer: this.bootServer.port };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.dhcp.close(), this.bootServer.close()]);
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
    const pin = answer.to.address === '255.255.255.255' ? this.broadcastIf : undefined;
    try {
      await (answer.port === 'dhcp' ? this.dhcp : this.bootServer).send(answer.data, answer.to, pin);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENETUNREACH' && !this.warnedNoRoute) {
        this.warnedNoRoute = true;
        this.logger.warn({ to: answer.to }, 'proxy-dhcp: broadcast answers have no route (no default route, and serverAddress is on no local interface): set proxy-dhcp.interface');
      }
      this.handler.sendFailed(answer, e);
      return;
    }
    await this.handler.sent(answer);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
