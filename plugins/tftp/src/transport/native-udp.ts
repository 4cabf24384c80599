import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { bindError, busyPoller, type Endpoint } from '@pureboot/core';
import type { BindOptions, UdpSocket } from './udp';

/** The compiled addon (`native/udp_batch.c`, built into `build/Release` by `npm ci`). */
interface UdpBatchAddon {
  init(buffer: Buffer, onBatch: (count: number, used: number) => void): void;
  open(address: string, port: number, recvBufferBytes: number, readsPerWake: number, immediate: boolean, uring: boolean): [number, number];
  send(id: number, buf: Buffer, address: number, port: number): number;
  /** 0, or [datagrams lost, the first errno]. */
  sendMany(id: number, bufs: Buffer[], address: number, port: number): 0 | [number, number];
  pending(id: number): number;
  /** 0, or -errno: the datagram it had staged on io_uring was refused. */
  close(id: number): number;
  openCount(): number;
  /** 1: io_uring is in use for sockets opened with `uring`; < 0: it is not (-errno). */
  ring(): number;
  pilot(id: number, packets: Buffer, blksize: number, window: number, lastAcked: number, nextSend: number, highestSent: number, address: number, port: number, busyUs: number): boolean;
  /** Loop turns spent busy-polling after pilots sent. */
  spins(): number;
  /** 0, or [lastAcked, nextSend, highestSent, bytes, idleMs, packets]. */
  unpilot(id: number): 0 | [number, number, number, number, number, number];
}

const HEADER_BYTES = 12;
/** Socket ids are (generation << 20) | slot (udp_batch.c): a reused slot never gets an old id. */
const SLOT_MASK = 0xfffff;
/** The length field of a record that reports a failed read (its errno in place of the address). */
const ERROR_RECORD = 0xffff;
/** Where a turn's datagrams land before JS reads them (room for many 64 KiB datagrams). */
const BATCH_BYTES = 1 << 20;

let addon: UdpBatchAddon | undefined;
let loadProblem: string | undefined;
let shared: Buffer;
/** By slot: the open socket's id, and the socket. */
const receiverIds: number[] = [];
const receivers: (NativeSocket | undefined)[] = [];

/**
 * One JS call per event-loop turn with every datagram the sockets received in it. A receiver that
 * throws loses only its own datagram: the rest of the batch is delivered, then the first error is
 * thrown on (as an uncaught exception, as from a dgram 'message' handler).
 */
function onBatch(count: number): void {
  const b = shared;
  let off = 0;
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < count; i++) {
    const id = b.readUInt32LE(off);
    const len = b.readUInt16LE(off + 10);
    const slot = id & SLOT_MASK;
    // A record of a socket closed earlier in this turn (its slot now empty or someone else's) is dropped.
    if (receiverIds[slot] === id) {
      try {
        if (len === ERROR_RECORD) receivers[slot]!.failed(b.readInt32LE(off + 4), b.readUInt16LE(off + 8) === 1);
        else receivers[slot]!.received(b.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len), b.readUInt32BE(off + 4), b.readUInt16LE(off + 8));
      } catch (err) {
        failure ??= { err };
      }
    }
    off += len === ERROR_RECORD ? HEADER_BYTES : (HEADER_BYTES + len + 3) & ~3;
  }
  if (failure) throw failure.err;
}

/** Load the addon once per process; undefined (with `nativeUdpProblem()`) where it cannot run. */
export function nativeUdp(): UdpBatchAddon | undefined {
  if (addon || loadProblem) return addon;
  if (!isMainThread) {
    loadProblem = 'the batched UDP transport runs on the main thread only (one instance per process)';
    return undefined;
  }
  if (process.platform !== 'linux' || os.endianness() !== 'LE') {
    loadProblem = `the batched UDP transport is built for little-endian Linux (this is ${process.platform}, ${os.endianness()})`;
    return undefined;
  }
  const file = path.join(__dirname, '..', '..', 'build', 'Release', 'udp_batch.node');
  try {
    const a = createRequire(__filename)(file) as UdpBatchAddon;
    shared = Buffer.alloc(BATCH_BYTES);
    a.init(shared, onBatch);
    addon = a;
  } catch (err) {
    loadProblem = `${file}: ${(err as Error).message} (build it with \`npm rebuild @pureboot/plugin-tftp\`)`;
  }
  return addon;
}

/**
 * Why sockets opened with `ioUring` still send and receive one system call per datagram: undefined
 * when io_uring is in use (the addon loaded and the kernel allows it).
 */
export function nativeRingProblem(): string | undefined {
  const a = addon;
  if (!a) return `native UDP transport unavailable: ${loadProblem ?? 'not loaded'}`;
  const r = a.ring();
  return r === 1 ? undefined : `io_uring is not available (${errnoName(-r)})`;
}

/** Why the addon is not in use (undefined when it is, or when nobody asked yet). */
export function nativeUdpProblem(): string | undefined {
  return loadProblem;
}

/** `ECONNABORTED` for 103 …, as Node names system errors. */
function errnoName(errno: number): string {
  return Object.entries(os.constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
}

/** An Error as Node reports a failed system call: `what (ENAME)` with code, errno (negative), syscall. */
function sysError(what: string, errno: number, syscall: string): Error {
  const code = errnoName(errno);
  return Object.assign(new Error(`${what} (${code})`), { code, errno: -errno, syscall });
}

function ipv4ToU32(address: string): number {
  const p = address.split('.');
  return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
}

function u32ToIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Where a read transfer stands, in absolute block numbers (see ReadTransfer). */
export interface PilotState {
  lastAcked: number;
  nextSend: number;
  highestSent: number;
}

/** A native socket; `queuedCopies()` counts datagrams waiting in the addon for a writable socket. */
export interface NativeUdpSocket extends UdpSocket {
  sendMany(bufs: Buffer[], to: Endpoint): void;
  queuedCopies(): number;
  /**
   * From now on the addon answers the in-order ACKs of `to` with the next of `packets` (every DATA
   * packet of a file back to back, as packetize() builds them) itself, until a datagram it does not
   * take (native/pilot.h): that one, and all after it, reach onMessage as before. It busy-polls
   * after it sends as `busyPollUs` says, like send().
   */
  pilot(packets: Buffer, blksize: number, window: number, state: PilotState, to: Endpoint): void;
  /** Take the transfer back from the addon: where it got to (undefined when it was not piloted). */
  unpilot(): PilotReport | undefined;
}

/** Where a piloted transfer got to: bytes of the blocks it sent first, ms since an ACK moved it, DATA packets it sent. */
export type PilotReport = PilotState & { bytes: number; idleMs: number; packets: number };

/**
 * Bind a socket on the addon (call `nativeUdp()` first). Same contract as `bindUdp`, with
 * one difference: the Buffer handed to `onMessage` is only valid during the call (it is a view of
 * the turn's shared batch), which transfer sockets honour by parsing ACKs at once.
 */
export function bindNativeUdp(o: BindOptions): NativeUdpSocket {
  const a = addon;
  if (!a) throw new Error(`native UDP transport unavailable: ${loadProblem ?? 'not loaded'}`);
  let id: number;
  let port: number;
  try {
    [id, port] = a.open(o.address, o.port, o.recvBufferBytes ?? 0, o.readsPerWake ?? 1, o.immediate ?? false, o.ioUring ?? false);
  } catch (err) {
    throw bindError(err as NodeJS.ErrnoException, { protocol: 'udp', address: o.address, port: o.port, plugin: o.plugin });
  }
  const s = new NativeSocket(a, id, port, o);
  receiverIds[id & SLOT_MASK] = id;
  receivers[id & SLOT_MASK] = s;
  return s;
}

/**
 * One socket of the addon. A class, not an object of closures: a boot storm opens hundreds of
 * these (the transfer socket pool keeps them open ahead of need), each one shape with its methods
 * on the prototype.
 */
class NativeSocket implements NativeUdpSocket {
  readonly local: Endpoint;
  private closed = false;
  private readonly busyUs: number;
  // The peer is nearly always the same endpoint: keep its object and its number form.
  private lastFromA = -1;
  private lastFromPort = -1;
  private lastFrom: Endpoint = { address: '', port: 0 };
  private lastTo: Endpoint | undefined;
  private lastToA = 0;

  constructor(
    private readonly a: UdpBatchAddon,
    private readonly id: number,
    port: number,
    private readonly o: BindOptions,
  ) {
    this.local = { address: o.address, port };
    this.busyUs = o.busyPollUs ?? 0;
  }

  /** A datagram from the addon's batch (onBatch). */
  received(buf: Buffer, addr: number, srcPort: number): void {
    if (addr !== this.lastFromA || srcPort !== this.lastFromPort) {
      this.lastFromA = addr;
      this.lastFromPort = srcPort;
      this.lastFrom = { address: u32ToIpv4(addr), port: srcPort };
    }
    this.o.onMessage(buf, this.lastFrom);
  }

  /** An error record: a datagram refused after its send() returned (send), or a failed read. */
  failed(errno: number, send: boolean): void {
    const at = `${this.o.address}:${this.local.port}`;
    this.o.onError(
      send
        ? sysError(`a datagram from ${at} sent after its call (queued, or batched on io_uring) was refused`, errno, 'sendto')
        : sysError(`receive on ${at} failed`, errno, 'recvfrom'),
    );
  }

  private addressOf(to: Endpoint): number {
    if (to !== this.lastTo) {
      this.lastTo = to;
      this.lastToA = ipv4ToU32(to.address);
    }
    return this.lastToA;
  }

  send(buf: Buffer, to: Endpoint): void {
    if (this.closed) return;
    const rc = this.a.send(this.id, buf, this.addressOf(to), to.port);
    if (rc < 0) this.o.onError(sysError(`send to ${to.address}:${to.port} failed`, -rc, 'sendto'));
    if (this.busyUs > 0) busyPoller.poke(this.busyUs);
  }

  sendMany(bufs: Buffer[], to: Endpoint): void {
    if (this.closed || bufs.length === 0) return;
    const r = this.a.sendMany(this.id, bufs, this.addressOf(to), to.port);
    if (r !== 0) this.o.onError(sysError(`send to ${to.address}:${to.port}: ${r[0]} of ${bufs.length} datagrams refused`, r[1], 'sendmmsg'));
    if (this.busyUs > 0) busyPoller.poke(this.busyUs);
  }

  // A datagram the kernel could not take at once is copied into the addon's queue, so no caller's
  // buffer is ever still in use after send() returns.
  pendingSends(): number {
    return 0;
  }

  queuedCopies(): number {
    return this.closed ? 0 : this.a.pending(this.id);
  }

  pilot(packets: Buffer, blksize: number, window: number, state: PilotState, to: Endpoint): void {
    if (!this.closed) this.a.pilot(this.id, packets, blksize, window, state.lastAcked, state.nextSend, state.highestSent, ipv4ToU32(to.address), to.port, this.busyUs);
  }

  unpilot(): PilotReport | undefined {
    const r = this.closed ? 0 : this.a.unpilot(this.id);
    return r === 0 ? undefined : { lastAcked: r[0], nextSend: r[1], highestSent: r[2], bytes: r[3], idleMs: r[4], packets: r[5] };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const slot = this.id & SLOT_MASK;
    receiverIds[slot] = -1;
    receivers[slot] = undefined;
    const rc = this.a.close(this.id);
    if (rc < 0) this.o.onError(sysError(`a datagram from ${this.o.address}:${this.local.port} sent before close was refused`, -rc, 'sendto'));
  }
}
