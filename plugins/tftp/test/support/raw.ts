import dgram from 'node:dgram';
import { parsePacket, type TftpPacket } from '../../src/codec/packet';

export interface Received {
  packet: TftpPacket | undefined;
  raw: Buffer;
  port: number;
}

/** A raw UDP socket for hand-made datagrams; every wait is bounded. */
export class RawClient {
  private readonly sock = dgram.createSocket('udp4');
  private readonly queue: Received[] = [];
  private waiter: (() => void) | undefined;
  readonly all: Received[] = [];

  static async open(): Promise<RawClient> {
    const c = new RawClient();
    await new Promise<void>((r) => c.sock.bind(0, '127.0.0.1', () => r()));
    return c;
  }

  private constructor() {
    this.sock.on('message', (raw, rinfo) => {
      const p = parsePacket(raw);
      const rec = { packet: p.ok ? p.packet : undefined, raw, port: rinfo.port };
      this.queue.push(rec);
      this.all.push(rec);
      this.waiter?.();
    });
  }

  get port(): number {
    return this.sock.address().port;
  }

  send(buf: Buffer, port: number): void {
    this.sock.send(buf, port, '127.0.0.1');
  }

  /** The next datagram, or undefined after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<Received | undefined> {
    if (this.queue.length) return this.queue.shift();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(t);
        this.waiter = undefined;
        resolve();
      };
    });
    return this.queue.shift();
  }

  /** Everything that arrives within `ms`. */
  async collect(ms: number): Promise<Received[]> {
    const out: Received[] = [];
    const end = Date.now() + ms;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) break;
      const r = await this.next(left);
      if (r) out.push(r);
    }
    return out;
  }

  close(): void {
    this.sock.close();
  }
}
