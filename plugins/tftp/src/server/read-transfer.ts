import { serializeError, serializeOack } from '../codec/packet';
import { TftpErrorCode } from '../codec/opcodes';
import type { TftpOption, TftpPacket } from '../codec/packet';
import type { PilotReport, PilotState } from '../transport/native-udp';
import type { PacketSource } from './packet-source';

/** Packet bytes a transfer builds ahead of the client's ACK at most (see prepare()). */
const PREPARE_BYTES = 64 * 1024;

export interface TransferTiming {
  /** First retransmission timeout. */
  timeoutMs: number;
  backoff: number;
  maxTimeoutMs: number;
  /** Retransmissions of the same window before giving up. */
  retries: number;
}

export type TransferEnd =
  | { ok: true; bytes: number; blocks: number; retransmits: number; unconfirmed: boolean }
  | { ok: false; reason: string; bytes: number; blocks: number; retransmits: number; clientError?: { code: number; message: string } };

export interface TransferStats {
  retransmit(): void;
  duplicateAck(): void;
  bytes(n: number): void;
  /** DATA packets the data plane sent. */
  piloted?(n: number): void;
}

/**
 * A transport that answers the in-order ACKs of a file whose packets are all in memory by itself
 * (the native addon's pilot, native/pilot.h). The transfer hands them over whenever its own state is
 * settled, and takes them back before it handles anything: every datagram the data plane does not
 * take reaches onPacket, and the timer's deadline.
 */
export interface DataPlane {
  engage(packets: Buffer, blksize: number, window: number, at: PilotState): void;
  /** Where it got to; undefined when it was not engaged. */
  disengage(): PilotReport | undefined;
}

export interface ReadTransferOptions {
  source: PacketSource;
  windowsize: number;
  oack: TftpOption[];
  timing: TransferTiming;
  /** Put one datagram on the wire to the client. */
  send(buf: Buffer): void;
  /** Put several on the wire at once (a window), where the transport can (one system call). */
  sendMany?(bufs: Buffer[]): void;
  stats: TransferStats;
  onEnd(end: TransferEnd): void;
  now?: () => number;
  /** Used when the source has its `wire` form. */
  dataPlane?: DataPlane;
}

/**
 * The sending side of one read transfer (RFC 1350 lock-step, RFC 7440 windows), transport-free.
 *
 * Block numbers are tracked as absolute integers and only wrapped to 16 bits on the wire, so files of
 * any length roll over cleanly (block 65535 → 0 → 1 …). The server alone retransmits, on its own
 * timer: a duplicate ACK never triggers DATA (the Sorcerer's Apprentice bug). An ACK for a block
 * inside the window that was sent (a client that saw a gap, RFC 7440) restarts the window after it.
 */
export class ReadTransfer {
  private readonly o: ReadTransferOptions;
  private readonly now: () => number;
  /** Last acknowledged absolute block (0 = the OACK or nothing yet). */
  private lastAcked = 0;
  /** Next absolute block to put on the wire. */
  private nextSend = 1;
  /** Highest absolute block produced so far (the source keeps it until it is acknowledged). */
  private produced = 0;
  /** Absolute number of the final (short) block once it is known. */
  private finalBlock: number | undefined;
  private awaitingOack: boolean;
  private retriesLeft: number;
  private currentTimeout: number;
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the running timer fires. */
  private timerAt = 0;
  /** A read of block `produced + 1` is in flight (started by fill() or prepare()). */
  private reading = false;
  /** Highest absolute block put on the wire so far (bytes are counted on a block's first sending). */
  private highestSent = 0;
  /** The packets of one fill() pass, handed to the transport together (reused). */
  private readonly outgoing: Buffer[] = [];
  private ended = false;
  private bytesSent = 0;
  private retransmits = 0;
  private readonly oackPacket: Buffer | undefined;
  /** The data plane holds the in-order ACKs: lastAcked, nextSend and highestSent are its (see sync()). */
  private engaged = false;

  constructor(o: ReadTransferOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.awaitingOack = o.oack.length > 0;
    this.oackPacket = this.awaitingOack ? serializeOack(o.oack) : undefined;
    this.retriesLeft = o.timing.retries;
    this.currentTimeout = o.timing.timeoutMs;
  }

  get done(): boolean {
    return this.ended;
  }

  start(): void {
    if (this.oackPacket) {
      this.o.send(this.oackPacket);
      this.arm();
    } else {
      this.fill();
    }
  }

  /** A datagram from the client's TID. */
  onPacket(p: TftpPacket): void {
    if (this.ended) return;
    this.sync();
    if (p.op === 'ACK') this.onAck(p.block);
    else if (p.op === 'ERROR') this.finish({ ok: false, reason: `client sent ERROR ${p.code}: ${p.message.slice(0, 100)}`, clientError: { code: p.code, message: p.message } });
    // DATA, OACK or a request on a transfer socket: not part of a read transfer; ignored.
    else this.engage();
  }

  /** Abort (server stopping, read failure): tell the client and end. */
  abort(reason: string, code: number = TftpErrorCode.NOT_DEFINED, message = reason): void {
    if (this.ended) return;
    this.sync();
    this.o.send(serializeError(code, message));
    this.finish({ ok: false, reason });
  }

  /** An ACK (its 16-bit block number) from the client's TID. */
  onAck(block16: number): void {
    if (this.ended) return;
    this.sync();
    this.handleAck(block16);
    this.engage();
  }

  private handleAck(block16: number): void {
    if (this.awaitingOack) {
      if (block16 !== 0) return;
      this.awaitingOack = false;
      this.progress();
      this.fill();
      return;
    }
    // Find the absolute block in [lastAcked, nextSend-1] with these low 16 bits.
    const lo = this.lastAcked;
    const hi = this.nextSend - 1;
    const abs = lo + ((block16 - (lo & 0xffff) + 0x10000) & 0xffff);
    if (abs > hi) return; // stale or from the future: ignore
    if (abs === lo) {
      // Duplicate: never answer it with DATA (Sorcerer's Apprentice); our timer retransmits.
      this.o.stats.duplicateAck();
      return;
    }
    this.lastAcked = abs;
    this.o.source.release(abs);
    this.progress();
    if (this.finalBlock !== undefined && abs >= this.finalBlock) {
      this.finish({ ok: true, unconfirmed: false });
      return;
    }
    if (abs < hi) {
      // RFC 7440: the client missed abs+1; send the window again from there.
      this.retransmits += hi - abs;
      for (let i = abs; i < hi; i++) this.o.stats.retransmit();
      this.nextSend = abs + 1;
    }
    this.fill();
  }

  /**
   * Send blocks until the window is full, producing new ones from the source as needed. Synchronous
   * while the source answers at once; a block that needs a read continues when it arrives (and a
   * timeout or gap ACK in the meantime moves `nextSend`, which the continuation starts from). Once the
   * window is out, the next one is prepared (see prepare()).
   */
  private fill(): void {
    if (this.ended) return;
    const out = this.outgoing;
    try {
      while (this.nextSend <= this.lastAcked + this.o.windowsize && (this.finalBlock === undefined || this.nextSend <= this.finalBlock)) {
        const n = this.nextSend;
        const pkt = n <= this.produced ? (this.o.source.packet(n) as Buffer) : this.read(n);
        if (pkt === undefined) {
          // The block is being read: send what is ready and keep the deadline running, so a read
          // that never completes (a stalled network root) ends the transfer after the retries.
          this.flush(out);
          return;
        }
        out.push(pkt);
        if (n > this.highestSent) {
          this.highestSent = n;
          const len = pkt.length - 4;
          this.bytesSent += len;
          this.o.stats.bytes(len);
        }
        this.nextSend = n + 1;
      }
      this.flush(out);
      this.prepare();
      this.engage();
    } catch (err) {
      out.length = 0;
      this.abort(`read failed: ${(err as Error).message}`, TftpErrorCode.NOT_DEFINED, 'read error');
    }
  }

  /**
   * While a window is in flight, produce the blocks of the next one (up to PREPARE_BYTES of them), so
   * the ACK that opens it finds its packets built and only sends them: the copy into packets, and a
   * file read the chunk did not cover, move off the turnaround between the client's ACK and the DATA.
   */
  private prepare(): void {
    const ahead = Math.max(1, Math.min(this.o.windowsize, Math.floor(PREPARE_BYTES / this.o.source.blksize)));
    const upTo = this.nextSend - 1 + ahead;
    while (!this.ended && !this.reading && this.finalBlock === undefined && this.produced < upTo) {
      if (this.read(this.produced + 1) === undefined) return;
    }
  }

  /** Block n (= produced + 1) at once, or undefined while its read is in flight (fill() runs again when it lands). */
  private read(n: number): Buffer | undefined {
    if (this.reading) return undefined;
    if (n !== this.produced + 1) throw new Error(`internal: block ${n} requested after ${this.produced}`);
    const r = this.o.source.packet(n);
    if (!(r instanceof Promise)) {
      this.produce(n, r);
      return r;
    }
    this.reading = true;
    r.then(
      (p) => {
        this.reading = false;
        if (this.ended) return;
        this.produce(n, p);
        this.fill();
      },
      (err: unknown) => {
        this.reading = false;
        this.abort(`read failed: ${(err as Error).message}`, TftpErrorCode.NOT_DEFINED, 'read error');
      },
    );
    return undefined;
  }

  /**
   * Put fill()'s packets on the wire, in order (one at a time, or together where the transport can),
   * and (re)start the deadline — unless nothing went out and the deadline is already running: a read
   * of the next window landing while the current one waits for its ACK must not push that window's
   * retransmission back (each of up to a window's reads would).
   */
  private flush(out: Buffer[]): void {
    const any = out.length > 0;
    if (out.length === 1 || (out.length > 1 && !this.o.sendMany)) for (const p of out) this.o.send(p);
    else if (out.length > 1) this.o.sendMany!(out);
    out.length = 0;
    if (any || !this.timer) this.arm();
  }

  private produce(n: number, pkt: Buffer): void {
    this.produced = n;
    if (pkt.length - 4 < this.o.source.blksize) this.finalBlock = n;
  }

  /** The client moved forward (at `when`): reset retries and the backed-off timeout. */
  private progress(when = this.now()): void {
    this.retriesLeft = this.o.timing.retries;
    this.currentTimeout = this.o.timing.timeoutMs;
    this.arm(when + this.currentTimeout);
  }

  /** (Re)start the retransmission deadline; one lazily re-armed timer per transfer. */
  private arm(deadline = this.now() + this.currentTimeout): void {
    this.deadline = deadline;
    // Keep the running timer when it fires no later than the new deadline (it re-arms itself lazily);
    // replace it when the deadline moved earlier (the timeout shrank back after a backoff).
    if (this.timer && this.timerAt <= this.deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = this.deadline;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, this.deadline - this.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.ended) return;
    this.sync();
    const left = this.deadline - this.now();
    if (left > 0) {
      // sync() may have armed a timer already (the pilot's progress moved the deadline).
      if (!this.timer) {
        this.timerAt = this.deadline;
        this.timer = setTimeout(() => this.onTimer(), left);
      }
      this.engage();
      return;
    }
    if (this.retriesLeft <= 0) {
      // Everything was sent and only the final ACK is missing: the client most likely has the file.
      const allSent = this.finalBlock !== undefined && this.nextSend > this.finalBlock && this.lastAcked === this.finalBlock - 1;
      if (allSent) this.finish({ ok: true, unconfirmed: true });
      else this.finish({ ok: false, reason: this.reading && this.nextSend > this.produced ? 'timeout: the file read did not complete' : 'timeout: no ACK after every retransmission' });
      return;
    }
    this.retriesLeft--;
    this.currentTimeout = Math.min(Math.round(this.currentTimeout * this.o.timing.backoff), this.o.timing.maxTimeoutMs);
    if (this.awaitingOack && this.oackPacket) {
      this.retransmits++;
      this.o.stats.retransmit();
      this.o.send(this.oackPacket);
      this.arm();
      return;
    }
    // Resend the whole unacknowledged window.
    const resend = this.nextSend - 1 - this.lastAcked;
    this.retransmits += resend;
    for (let i = 0; i < resend; i++) this.o.stats.retransmit();
    this.nextSend = this.lastAcked + 1;
    this.fill();
  }

  /**
   * Hand the in-order ACKs to the data plane: when there is one and the packets are all in memory,
   * blocks are in flight with more to come, and nothing else is pending (an OACK, a read).
   */
  private engage(): void {
    const plane = this.o.dataPlane;
    const wire = this.o.source.wire;
    if (!plane || !wire || this.engaged || this.ended || this.awaitingOack || this.reading) return;
    if (this.nextSend - 1 <= this.lastAcked || (this.finalBlock !== undefined && this.nextSend > this.finalBlock)) return;
    try {
      plane.engage(wire, this.o.source.blksize, this.o.windowsize, { lastAcked: this.lastAcked, nextSend: this.nextSend, highestSent: this.highestSent });
      this.engaged = true;
    } catch {
      // The addon could not take it (out of memory): JS answers the ACKs, as without a data plane.
    }
  }

  /** Take the state back from the data plane: the blocks it sent, and the ACKs it took as progress. */
  private sync(): void {
    if (!this.engaged) return;
    this.engaged = false;
    const at = this.o.dataPlane!.disengage();
    if (!at) return;
    if (at.packets > 0) this.o.stats.piloted?.(at.packets);
    if (at.bytes > 0) {
      this.bytesSent += at.bytes;
      this.o.stats.bytes(at.bytes);
    }
    this.highestSent = Math.max(this.highestSent, at.highestSent);
    if (this.produced < at.nextSend - 1) this.produce(at.nextSend - 1, this.o.source.packet(at.nextSend - 1) as Buffer); // all in memory: nothing to read
    this.nextSend = at.nextSend;
    if (at.lastAcked > this.lastAcked) {
      this.lastAcked = at.lastAcked;
      this.o.source.release(at.lastAcked);
      this.progress(this.now() - at.idleMs); // as if JS had taken the ACK when it came in
    }
  }

  private finish(end: { ok: true; unconfirmed: boolean } | { ok: false; reason: string; clientError?: { code: number; message: string } }): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const common = { bytes: this.bytesSent, blocks: this.highestSent, retransmits: this.retransmits };
    this.o.onEnd(end.ok ? { ...common, ok: true, unconfirmed: end.unconfirmed } : { ...common, ...end, ok: false });
  }
}
