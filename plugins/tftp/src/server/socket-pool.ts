import type { Endpoint } from '@pureboot/core';
import type { UdpSocket } from '../transport/udp';

/** Where a transfer socket's datagrams and errors go. */
export interface SocketHandlers {
  onMessage(buf: Buffer, from: Endpoint): void;
  onError(err: Error): void;
}

/** The server has been quiet this long: retired sockets are closed and the pool is refilled. */
const QUIET_MS = 50;

const DROP: SocketHandlers = { onMessage: () => undefined, onError: () => undefined };

interface Slot {
  socket: UdpSocket;
  h: SocketHandlers;
}

/**
 * Transfer sockets opened ahead of a boot storm, and closed after it. Opening one (socket, bind,
 * its port, the poll registration) and closing it are five system calls and a few allocations, on
 * the path of every request of a storm. The pool keeps `size` sockets open; each is handed to one
 * transfer only, so every transfer still gets a fresh TID. A released (finished) transfer's socket delivers
 * nothing from then on, and is closed with the others once the server has been quiet for QUIET_MS
 * (or at once when `size` of them wait); the pool is refilled at the same moments.
 */
export class SocketPool {
  private readonly ready: Slot[] = [];
  /** Every socket taken and not yet given back, with its slot. */
  private readonly taken = new Map<UdpSocket, Slot>();
  private retired: UdpSocket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastBusy = 0;
  private stopped = false;

  constructor(
    private readonly open: (h: SocketHandlers) => UdpSocket,
    private readonly size: number,
    private readonly onRefillError: (err: Error) => void,
  ) {}

  /** Sockets open and waiting for a transfer. */
  get available(): number {
    return this.ready.length;
  }

  /** Open the pool's sockets (at start). */
  fill(): void {
    this.stopped = false;
    try {
      while (this.ready.length < this.size) this.ready.push(this.slot());
    } catch (err) {
      this.onRefillError(err as Error); // no more sockets now (EMFILE …): transfers open their own
    }
  }

  /** A socket for one transfer, delivering to h; give it back with release(). Throws when none can be opened. */
  take(h: SocketHandlers): UdpSocket {
    const slot = this.ready.pop() ?? this.slot();
    slot.h = h;
    this.taken.set(slot.socket, slot);
    this.busy();
    return slot.socket;
  }

  /** The transfer is over: its socket delivers nothing from now on, and is closed once the server is quiet. */
  release(socket: UdpSocket): void {
    const slot = this.taken.get(socket);
    if (!slot) return;
    this.taken.delete(socket);
    slot.h = DROP;
    const s = socket as UdpSocket & { unpilot?: () => unknown };
    s.unpilot?.(); // nothing is answered on it any more
    if (this.stopped) return s.close();
    this.retired.push(s);
    if (this.retired.length >= Math.max(this.size, 1)) this.closeRetired();
    this.busy();
  }

  /** Close every socket (the server stops). */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.ready.splice(0)) s.socket.close();
    for (const s of this.taken.keys()) s.close();
    this.taken.clear();
    this.closeRetired();
  }

  private slot(): Slot {
    const slot: Slot = { socket: undefined as unknown as UdpSocket, h: DROP };
    slot.socket = this.open({ onMessage: (buf, from) => slot.h.onMessage(buf, from), onError: (err) => slot.h.onError(err) });
    return slot;
  }

  private closeRetired(): void {
    const done = this.retired;
    this.retired = [];
    for (const s of done) s.close();
  }

  private busy(): void {
    this.lastBusy = Date.now();
    if (!this.timer && !this.stopped) this.timer = setTimeout(this.onQuiet, QUIET_MS).unref();
  }

  private readonly onQuiet = (): void => {
    this.timer = undefined;
    const left = this.lastBusy + QUIET_MS - Date.now();
    if (left > 0) {
      this.timer = setTimeout(this.onQuiet, left).unref();
      return;
    }
    this.closeRetired();
    this.fill();
  };
}
