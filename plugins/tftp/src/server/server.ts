import {
  notify,
  type BootEvent,
  type Clock,
  type Endpoint,
  type FileFound,
  type FileReader,
  type FileResolution,
  type Logger,
  type PacketDroppedEvent,
  type PurebootHooks,
  PurebootError,
} from '@pureboot/core';
import type { Registry } from 'prom-client';
import { negotiateRead, type NegotiationLimits } from '../codec/negotiate';
import { TftpErrorCode } from '../codec/opcodes';
import { ackBlock, parsePacket, serializeError, type TftpPacket } from '../codec/packet';
import { TftpErrorCodes } from '../errors';
import { createMetrics, type TftpMetrics } from '../metrics';
import type { TftpOptions } from '../options';
import { bindNativeUdp, nativeRingProblem, nativeUdp, nativeUdpProblem, type NativeUdpSocket } from '../transport/native-udp';
import { bindUdp, type BindOptions, type UdpSocket } from '../transport/udp';
import { bufferChunks, netasciiChunks, readerChunks, type ChunkProducer } from './block-source';
import { ClientDirectory } from './client-directory';
import { FileCache, type CachedFile } from './file-cache';
import { ChunkPackets, PrebuiltPackets, type PacketSource } from './packet-source';
import { matchQuirk } from './quirks';
import { ReadTransfer, type TransferEnd } from './read-transfer';
import { SocketPool, type SocketHandlers } from './socket-pool';

export interface TftpServerDeps {
  options: TftpOptions;
  hooks: PurebootHooks;
  logger: Logger;
  metrics: Registry;
  clock?: Clock;
}

const NO_LABELS: Record<never, string> = Object.freeze({});

type RequestPacket = Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>;

interface Session {
  key: string;
  remote: Endpoint;
  transfer?: ReadTransfer;
  socket?: UdpSocket;
  /** Holds a slot of the transfer limits. */
  admitted?: boolean;
}

/**
 * The TFTP server: the listener (transport) hands datagrams here; every request goes through
 * `packetReceive` (a tap may drop it) and `fileResolve` (the core's static root is the BUILTIN tap);
 * files are only ever read through the resolved FileFound's reader. Read-only.
 */
export class TftpServer {
  readonly directory: ClientDirectory;
  readonly metrics: TftpMetrics;
  private readonly o: TftpOptions;
  private readonly hooks: PurebootHooks;
  private readonly logger: Logger;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly cache: FileCache;
  private listener: UdpSocket | undefined;
  /** Requests being handled and transfers running, by client `ip:port`. */
  private readonly sessions = new Map<string, Session>();
  private admitted = 0;
  private readonly perClient = new Map<string, number>();
  private stopping = false;
  /** Listener and transfer sockets on the batched native transport (else Node's dgram). */
  private native = false;
  /** Native sockets use io_uring (tftp.ioUring, where the kernel has it). */
  private ring = false;
  /** Transfer sockets opened ahead of need (native transport, tftp.socketPool > 0). */
  private pool: SocketPool | undefined;
  private lastBusyLog = 0;
  private busySinceLog = 0;
  private readonly transferStats = {
    retransmit: () => this.metrics.retransmits.inc(NO_LABELS),
    duplicateAck: () => this.metrics.duplicateAcks.inc(NO_LABELS),
    bytes: (k: number) => this.metrics.bytes.inc(NO_LABELS, k),
    piloted: (k: number) => this.metrics.nativeData.inc(NO_LABELS, k),
  };
  /** Settles when the request handlers started so far have finished (tests). */
  private inflight = new Set<Promise<void>>();

  constructor(deps: TftpServerDeps) {
    this.o = deps.options;
    this.hooks = deps.hooks;
    this.logger = deps.logger;
    this.clock = deps.clock ?? { now: () => Date.now() };
    this.metrics = createMetrics(deps.metrics, () => this.admitted);
    this.directory = new ClientDirectory(this.o.clientMapSize);
    this.cache = new FileCache(this.o.cache.maxFileBytes, this.o.cache.maxBytes);
    if (this.o.maxTimeoutMs < this.o.timeoutMs) {
      this.logger.warn({ code: TftpErrorCodes.OPTIONS, timeoutMs: this.o.timeoutMs, maxTimeoutMs: this.o.maxTimeoutMs }, 'tftp.maxTimeoutMs is below tftp.timeoutMs; using timeoutMs as the cap');
    }
  }

  /** Where the listener is bound (after start). */
  get address(): Endpoint | undefined {
    return this.listener?.local;
  }

  get activeTransfers(): number {
    return this.admitted;
  }

  /** Which transport the sockets use (after start). */
  get transport(): 'native' | 'dgram' {
    return this.native ? 'native' : 'dgram';
  }

  /** Whether the native sockets batch their system calls on io_uring (after start; false once a ring that failed was given up). */
  get ioUring(): boolean {
    return this.ring && nativeRingProblem() === undefined;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.native = this.o.transport !== 'dgram' && nativeUdp() !== undefined;
    if (!this.native && this.o.transport === 'native') {
      throw new PurebootError(TftpErrorCodes.NATIVE, `tftp.transport is "native" but the batched UDP transport cannot load: ${nativeUdpProblem()}`);
    }
    if (!this.native && this.o.transport === 'auto') {
      this.logger.warn({ code: TftpErrorCodes.NATIVE, reason: nativeUdpProblem() }, 'tftp: sockets use node:dgram (the batched native transport is not available)');
    }
    const ringProblem = this.native && this.o.ioUring ? nativeRingProblem() : undefined;
    this.ring = this.native && this.o.ioUring && !ringProblem;
    if (ringProblem) this.logger.info({ reason: ringProblem }, 'tftp: io_uring is not available: one system call per datagram (tftp.ioUring)');
    const bind: BindOptions = {
      address: this.o.address,
      port: this.o.port,
      recvBufferBytes: this.o.recvBufferBytes,
      readsPerWake: 64,
      immediate: true,
      ioUring: this.ring,
      plugin: 'tftp',
      onMessage: (buf, from) => this.onListenerDatagram(buf, from),
      onError: (err) => this.logger.warn({ err }, 'tftp listener socket error'),
    };
    // The listener parses each request at once and keeps no view of its bytes, so it can use the
    // native transport's shared batch buffer too. Each request is handed over on its own (immediate),
    // so a storm's first answers leave while the rest of the burst is still being read.
    this.listener = await this.openSocket(bind);
    if (this.native && this.o.socketPool > 0) {
      this.pool = new SocketPool((h) => bindNativeUdp(this.transferBind(h)), this.o.socketPool, (err) => this.logger.warn({ err }, 'tftp: cannot open more pooled transfer sockets'));
      this.pool.fill();
    }
    this.logger.info({ address: this.listener.local.address, port: this.listener.local.port, transport: this.transport, ioUring: this.ioUring }, 'tftp listening');
  }

  /** A socket on the transport chosen at start. */
  private openSocket(o: BindOptions): Promise<UdpSocket> | UdpSocket {
    return this.native ? bindNativeUdp(o) : bindUdp(o);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.listener?.close();
    this.listener = undefined;
    for (const s of [...this.sessions.values()]) s.transfer?.abort('server stopping', TftpErrorCode.NOT_DEFINED, 'server shutting down');
    await this.settle();
    this.pool?.close();
    this.pool = undefined;
  }

  /** A transfer's socket back to the pool, or closed. */
  private closeTransferSocket(socket: UdpSocket): void {
    if (this.pool) this.pool.release(socket);
    else socket.close();
  }

  /** How every transfer socket is bound; h: where its datagrams go. */
  private transferBind(h: SocketHandlers): BindOptions {
    return { address: this.o.address, port: 0, plugin: 'tftp', busyPollUs: this.o.busyPollUs, ioUring: this.ring, onMessage: h.onMessage, onError: h.onError };
  }

  /** Wait for request handlers in flight (not for running transfers). */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Feed a boot event (the plugin taps hooks.bootEvent with this). */
  observeBootEvent(ev: BootEvent): void {
    this.directory.observe(ev);
  }

  // ------------------------------------------------------------ listener

  private onListenerDatagram(buf: Buffer, from: Endpoint): void {
    const parsed = parsePacket(buf);
    if (!parsed.ok) return this.drop('malformed', parsed.reason, from);
    const p = parsed.packet;
    if (p.op !== 'RRQ' && p.op !== 'WRQ') return this.drop('unexpected', `${p.op} sent to the listening port`, from);
    this.metrics.requests.inc({ op: p.op });
    if (this.stopping) return this.drop('overload', 'server stopping', from);
    const key = `${from.address}:${from.port}`;
    if (this.sessions.has(key)) return this.drop('duplicate', `${p.op} repeated while its transfer runs`, from);
    const session: Session = { key, remote: from };
    this.sessions.set(key, session);
    const run = this.handleRequest(p, session)
      .catch((err: unknown) => {
        this.logger.error({ err, client: key }, 'tftp request handler failed');
        if (session.socket) this.closeTransferSocket(session.socket);
        this.release(session);
        this.endSession(session);
      })
      .finally(() => this.inflight.delete(run));
    this.inflight.add(run);
  }

  private async handleRequest(p: RequestPacket, session: Session): Promise<void> {
    const from = session.remote;
    const known = this.directory.get(from.address);
    // 1. policy: packetReceive may drop it (skipped when nobody taps it: no promise, no turn).
    if (this.hooks.packetReceive.isUsed()) {
      try {
        const verdict = await this.hooks.packetReceive.promise({ protocol: 'tftp', messageType: p.op, remote: from, mac: known?.mac, packet: p });
        if (verdict && verdict.drop) {
          this.endSession(session);
          return this.drop('policy', verdict.reason, from, known?.mac);
        }
      } catch (err) {
        this.endSession(session);
        return this.drop('hook-error', `packetReceive tap failed: ${(err as Error).message}`, from, known?.mac);
      }
    }
    // 2. read-only.
    if (p.op === 'WRQ') {
      this.refuse(session, 'read-only', TftpErrorCode.ACCESS_VIOLATION, 'PureBoot TFTP is read-only');
      return;
    }
    if (p.mode === 'mail') {
      this.refuse(session, 'illegal-mode', TftpErrorCode.ILLEGAL_OPERATION, 'Mail mode cannot be read');
      return;
    }
    // 3. capacity (after policy, so dropped requests never get an answer).
    const perClient = this.perClient.get(from.address) ?? 0;
    if (this.admitted >= this.o.maxTransfers || perClient >= this.o.maxTransfersPerClient) {
      this.logBusy(from, perClient >= this.o.maxTransfersPerClient ? 'client' : 'global');
      this.refuse(session, 'busy', TftpErrorCode.NOT_DEFINED, 'Server busy, try again later');
      this.drop('overload', 'transfer limit reached', from, known?.mac);
      return;
    }
    this.admitted++;
    session.admitted = true;
    this.perClient.set(from.address, perClient + 1);
    const started = Date.now();
    let resolution: FileResolution | undefined;
    try {
      resolution = await this.hooks.fileResolve.promise({ protocol: 'tftp', path: p.filename, client: { address: from.address, port: from.port, mac: known?.mac, arch: known?.arch } });
    } catch (err) {
      this.release(session);
      return this.drop('hook-error', `fileResolve tap failed: ${(err as Error).message}`, from, known?.mac);
    }
    if (!resolution || resolution.status === 'not-found') {
      this.release(session);
      this.refuse(session, 'not-found', TftpErrorCode.FILE_NOT_FOUND, 'File not found');
      this.event('tftp.failed', from, known?.mac, { path: p.filename, reason: 'not-found', detail: resolution?.reason, durationMs: Date.now() - started });
      return;
    }
    if (resolution.status === 'denied') {
      this.release(session);
      this.refuse(session, 'denied', TftpErrorCode.ACCESS_VIOLATION, 'Access violation');
      this.event('tftp.failed', from, known?.mac, { path: p.filename, reason: 'denied', detail: resolution.reason, durationMs: Date.now() - started });
      return;
    }
    await this.startTransfer(p, session, resolution, started);
  }

  private async startTransfer(p: RequestPacket, session: Session, found: FileFound, started: number): Promise<void> {
    const from = session.remote;
    const known = this.directory.get(from.address);
    let producer: ChunkProducer | undefined; // none for a cached octet file: its packets are prebuilt
    let reader: FileReader | undefined;
    let cachedFile: CachedFile | undefined;
    try {
      if (this.cache.cacheable(found)) {
        cachedFile = this.cache.loaded(p.filename, found) ?? (await this.cache.get(p.filename, found));
        (cachedFile.hit ? this.metrics.cacheHits : this.metrics.cacheLoads).inc(NO_LABELS);
        if (p.mode !== 'octet') producer = bufferChunks(cachedFile.data);
      } else {
        reader = await found.open();
        producer = readerChunks(reader, found.size, this.o.readChunkBytes);
      }
    } catch (err) {
      this.release(session);
      this.logger.warn({ code: TftpErrorCodes.READ, err, path: p.filename, client: session.key }, 'tftp: cannot open the resolved file');
      this.refuse(session, 'open-failed', TftpErrorCode.ACCESS_VIOLATION, 'Cannot open file');
      this.event('tftp.failed', from, known?.mac, { path: p.filename, reason: 'open-failed', durationMs: Date.now() - started });
      return;
    }
    if (p.mode === 'netascii') producer = netasciiChunks(producer!);
    const quirk = matchQuirk(this.o.quirks, known);
    const limits: NegotiationLimits = {
      blksizeMax: Math.min(this.o.blksizeMax, quirk?.blksizeMax ?? Infinity),
      windowsizeMax: Math.min(this.o.windowsizeMax, quirk?.windowsizeMax ?? Infinity),
      tsize: this.o.tsize,
      timeout: this.o.acceptTimeoutOption,
    };
    const n = negotiateRead(p.options, limits, p.mode === 'netascii' ? undefined : found.size);
    let socket: UdpSocket;
    try {
      const h: SocketHandlers = {
        onMessage: (buf, src) => this.onTransferDatagram(session, buf, src),
        onError: (err) => this.logger.debug({ err, client: session.key }, 'tftp transfer socket error'),
      };
      // The native transport opens synchronously: no promise to wait for.
      const opened = this.pool ? this.pool.take(h) : this.openSocket(this.transferBind(h));
      socket = opened instanceof Promise ? await opened : opened;
    } catch (err) {
      await reader?.close().catch(() => undefined);
      this.release(session);
      this.logger.warn({ err, client: session.key }, 'tftp: cannot open a transfer socket');
      this.refuse(session, 'busy', TftpErrorCode.NOT_DEFINED, 'Server busy, try again later');
      return;
    }
    session.socket = socket;
    if (this.stopping) {
      this.closeTransferSocket(socket);
      await reader?.close().catch(() => undefined);
      this.release(session);
      return;
    }
    const timeoutMs = n.timeoutSec !== undefined ? n.timeoutSec * 1000 : this.o.timeoutMs;
    const detail = { path: p.filename, mode: p.mode, blksize: n.blksize, windowsize: n.windowsize, tsize: n.tsize, size: found.size, source: found.source, cached: cachedFile !== undefined, client: session.key };
    this.event('tftp.start', from, known?.mac, { ...detail });
    const stats = this.transferStats;
    const pilot = this.o.dataPlane && 'pilot' in socket ? (socket as NativeUdpSocket) : undefined;
    const transfer = new ReadTransfer({
      source: packetSource(cachedFile, p.mode, producer, n.blksize, socket),
      dataPlane: pilot && { engage: (packets, blksize, window, at) => pilot.pilot(packets, blksize, window, at, from), disengage: () => pilot.unpilot() },
      windowsize: n.windowsize,
      oack: n.oack,
      timing: { timeoutMs, backoff: this.o.backoff, maxTimeoutMs: Math.max(this.o.maxTimeoutMs, timeoutMs), retries: this.o.retries },
      send: (buf) => socket.send(buf, from),
      sendMany: socket.sendMany ? (bufs) => socket.sendMany!(bufs, from) : undefined,
      stats,
      onEnd: (end) => {
        this.closeTransferSocket(socket);
        void reader?.close().catch(() => undefined);
        this.release(session);
        this.finished(end, from, detail, started);
      },
    });
    session.transfer = transfer;
    transfer.start();
  }

  private onTransferDatagram(session: Session, buf: Buffer, src: Endpoint): void {
    const t = session.transfer;
    if (!t || t.done) return;
    if (src.port !== session.remote.port || src.address !== session.remote.address) {
      // RFC 1350: a packet from another TID gets ERROR 5; the transfer goes on.
      session.socket?.send(serializeError(TftpErrorCode.UNKNOWN_TID, 'Unknown transfer ID'), src);
      this.metrics.errorsSent.inc({ code: String(TftpErrorCode.UNKNOWN_TID) });
      this.drop('wrong-tid', 'datagram from an unknown transfer ID', src);
      return;
    }
    const block = ackBlock(buf);
    if (block >= 0) return t.onAck(block);
    const parsed = parsePacket(buf);
    if (!parsed.ok) return this.drop('malformed', parsed.reason, src);
    t.onPacket(parsed.packet);
  }

  private finished(end: TransferEnd, from: Endpoint, detail: Record<string, unknown>, started: number): void {
    const durationMs = Date.now() - started;
    const known = this.directory.get(from.address);
    if (end.ok) {
      this.metrics.transfers.inc({ result: 'done', reason: end.unconfirmed ? 'unconfirmed' : 'acked' });
      this.event('tftp.done', from, known?.mac, { ...detail, bytes: end.bytes, blocks: end.blocks, retransmits: end.retransmits, unconfirmed: end.unconfirmed, durationMs });
      this.logger.debug({ path: detail.path, client: detail.client, bytes: end.bytes, durationMs }, 'tftp transfer done');
    } else {
      const reason = end.reason.startsWith('timeout') ? 'timeout' : end.clientError ? 'client-error' : end.reason.startsWith('read failed') ? 'read-error' : 'aborted';
      this.metrics.transfers.inc({ result: 'failed', reason });
      this.event('tftp.failed', from, known?.mac, { ...detail, reason, message: end.reason, bytes: end.bytes, blocks: end.blocks, retransmits: end.retransmits, durationMs });
      const code = reason === 'timeout' ? TftpErrorCodes.TIMEOUT : reason === 'read-error' ? TftpErrorCodes.READ : undefined;
      this.logger.info({ code, path: detail.path, client: detail.client, reason: end.reason }, 'tftp transfer failed');
    }
  }

  // ------------------------------------------------------------ helpers

  /** Answer a request with an ERROR from the listening port and forget it. */
  private refuse(session: Session, reason: string, code: number, message: string): void {
    this.metrics.refused.inc({ reason });
    this.metrics.errorsSent.inc({ code: String(code) });
    const buf = serializeError(code, message);
    this.listener?.send(buf, session.remote);
    void notify(this.hooks.packetSent, { protocol: 'tftp', messageType: 'ERROR', to: session.remote, size: buf.length }, this.logger);
    this.endSession(session);
  }

  private release(session: Session): void {
    if (!session.admitted) return;
    session.admitted = false;
    this.admitted--;
    const ip = session.remote.address;
    const c = (this.perClient.get(ip) ?? 1) - 1;
    if (c <= 0) this.perClient.delete(ip);
    else this.perClient.set(ip, c);
    this.endSession(session);
  }

  private endSession(session: Session): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  private drop(category: string, reason: string, from?: Endpoint, mac?: string): void {
    this.metrics.dropped.inc({ category });
    const ev: PacketDroppedEvent = { protocol: 'tftp', category, reason, from, mac };
    void notify(this.hooks.packetDropped, ev, this.logger);
    if (category === 'policy' || category === 'hook-error') this.logger.info({ category, reason, from }, 'tftp request dropped');
  }

  private logBusy(from: Endpoint, limit: 'client' | 'global'): void {
    this.busySinceLog++;
    const now = Date.now();
    if (now - this.lastBusyLog < 1000) return;
    this.logger.warn(
      { code: TftpErrorCodes.BUSY, client: from.address, limit, refusedSinceLastLog: this.busySinceLog, active: this.admitted, maxTransfers: this.o.maxTransfers, maxTransfersPerClient: this.o.maxTransfersPerClient },
      `tftp: transfer limit reached (${limit}); clients get ERROR 0 "server busy"`,
    );
    this.lastBusyLog = now;
    this.busySinceLog = 0;
  }

  /** A boot event; it takes `detail` over (the client and MAC are added to it). */
  private event(kind: 'tftp.start' | 'tftp.done' | 'tftp.failed', from: Endpoint, mac: string | undefined, detail: Record<string, unknown>): void {
    detail.client = `${from.address}:${from.port}`;
    if (mac) detail.mac = mac;
    const ev: BootEvent = { mac, address: from.address, at: this.clock.now(), source: 'tftp', kind, detail };
    void notify(this.hooks.bootEvent, ev, this.logger);
  }
}

/** Arena size of streamed transfers: about 44 packets of 1468 bytes (a window of 64 spans 2–3). */
const ARENA_BYTES = 65536;

/** Cached octet files are sent from their shared prebuilt packets; everything else is cut as it streams. */
function packetSource(cached: CachedFile | undefined, mode: string, producer: ChunkProducer | undefined, blksize: number, socket: UdpSocket): PacketSource {
  if (cached && mode === 'octet') return new PrebuiltPackets(cached.packets(blksize), blksize);
  return new ChunkPackets(producer!, blksize, ARENA_BYTES, () => socket.pendingSends() === 0);
}
