import { expect } from 'chai';
import sinon from 'sinon';
import { parsePacket, type TftpOption } from '../src/codec/packet';
import { bufferChunks } from '../src/server/block-source';
import { ChunkPackets, PrebuiltPackets, packetize } from '../src/server/packet-source';
import { ReadTransfer, type TransferEnd } from '../src/server/read-transfer';
import type { PilotState } from '../src/transport/native-udp';

/** The transfer state machine alone: a fake wire and fake timers (no sockets, no real time). */
function setup(o: { size: number; blksize?: number; windowsize?: number; oack?: TftpOption[]; retries?: number; many?: boolean }) {
  const data = Buffer.alloc(o.size);
  for (let i = 0; i < o.size; i++) data[i] = (i * 7 + 3) & 0xff;
  const sent: Array<{ at: number; op: string; block?: number; len?: number }> = [];
  const ends: TransferEnd[] = [];
  /** Sizes of the groups handed to sendMany. */
  const groups: number[] = [];
  const send = (buf: Buffer) => {
    const p = parsePacket(buf);
    if (!p.ok) throw new Error('sent a malformed packet');
    sent.push({ at: Date.now(), op: p.packet.op, block: 'block' in p.packet ? p.packet.block : undefined, len: p.packet.op === 'DATA' ? p.packet.data.length : undefined });
  };
  const t = new ReadTransfer({
    // Arenas of 3 packets: the tests run through arena reuse as well.
    source: new ChunkPackets(bufferChunks(data), o.blksize ?? 512, 3 * ((o.blksize ?? 512) + 4), () => true),
    windowsize: o.windowsize ?? 1,
    oack: o.oack ?? [],
    timing: { timeoutMs: 100, backoff: 2, maxTimeoutMs: 1000, retries: o.retries ?? 3 },
    send,
    sendMany: o.many
      ? (bufs) => {
          groups.push(bufs.length);
          for (const b of bufs) send(b);
        }
      : undefined,
    stats: { retransmit: () => undefined, duplicateAck: () => undefined, bytes: () => undefined },
    onEnd: (e) => void ends.push(e),
  });
  return { t, sent, ends, data, groups };
}

const ack = (block: number) => ({ op: 'ACK' as const, block: block & 0xffff });

/** Lock-step options with a 100 ms timeout and 3 retries; block numbers sent go to `sent`, ends to `ends`. */
function lockstep(sent: number[], ends: TransferEnd[]) {
  return {
    windowsize: 1,
    oack: [],
    timing: { timeoutMs: 100, backoff: 2, maxTimeoutMs: 1000, retries: 3 },
    send: (buf: Buffer) => void sent.push(buf.readUInt16BE(2)),
    stats: { retransmit: () => undefined, duplicateAck: () => undefined, bytes: () => undefined },
    onEnd: (e: TransferEnd) => void ends.push(e),
  };
}

/**
 * A transfer of prebuilt packets with a fake data plane standing in for the addon's pilot: step()
 * takes the next in-order ACK as the pilot would (no call into the transfer).
 */
function piloted(blocks: number) {
  const blksize = 512;
  const source = new PrebuiltPackets(packetize(Buffer.alloc(blksize * (blocks - 1) + 10, 1), blksize), blksize);
  let at: (PilotState & { bytes: number; packets: number; progressAt: number }) | undefined;
  let engages = 0;
  const sent: number[] = [];
  const ends: TransferEnd[] = [];
  const t = new ReadTransfer({
    ...lockstep(sent, ends),
    source,
    dataPlane: {
      engage: (_p, _b, _w, s) => {
        engages++;
        at = { ...s, bytes: 0, packets: 0, progressAt: Date.now() };
      },
      disengage: () => {
        const s = at;
        at = undefined;
        return s && { lastAcked: s.lastAcked, nextSend: s.nextSend, highestSent: s.highestSent, bytes: s.bytes, packets: s.packets, idleMs: Date.now() - s.progressAt };
      },
    },
  });
  const step = () => {
    if (!at || at.nextSend > blocks - 1) return false;
    at.lastAcked = at.nextSend - 1;
    at.highestSent = at.nextSend++;
    at.packets++;
    at.bytes += blksize;
    at.progressAt = Date.now();
    return true;
  };
  return { t, step, sent, ends, engages: () => engages };
}

describe('tftp: ReadTransfer state machine', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1000 });
  });
  afterEach(() => clock.restore());

  it('with a transport that sends several at once: a window goes out as one group, and the wire sees the same packets as one by one', async () => {
    const script = async (many: boolean) => {
      const { t, sent, ends, groups } = setup({ size: 20 * 512 + 100, windowsize: 8, many });
      t.start();
      await clock.tickAsync(0);
      t.onPacket(ack(8));
      await clock.tickAsync(0);
      t.onPacket(ack(11)); // a gap ACK inside the window: the window restarts after block 11
      await clock.tickAsync(0);
      await clock.tickAsync(100); // a timeout: the unacknowledged window again
      t.onPacket(ack(19));
      await clock.tickAsync(0);
      t.onPacket(ack(21));
      return { sent: sent.map((x) => [x.op, x.block, x.len]), groups, ok: ends[0]?.ok };
    };
    const one = await script(false);
    const many = await script(true);
    expect(many.sent).to.deep.equal(one.sent);
    expect(many.ok).to.equal(true);
    expect(many.groups[0]).to.equal(8);
    expect(many.groups.every((g) => g > 1)).to.equal(true);
  });

  it('a read that never completes ends the transfer after the retries (the slot is not held for ever)', async () => {
    const ends: TransferEnd[] = [];
    const sent: number[] = [];
    const t = new ReadTransfer({
      // Block 1 comes at once, block 2 never (a stalled network root).
      source: { blksize: 512, packet: (n: number) => (n === 1 ? Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(512)]) : new Promise<Buffer>(() => undefined)), release: () => undefined },
      ...lockstep(sent, ends),
    });
    t.start();
    await clock.tickAsync(0);
    t.onPacket(ack(1)); // asks for block 2: the read hangs
    await clock.tickAsync(100 + 200 + 400 + 800 + 10);
    expect(ends).to.have.length(1);
    expect(ends[0]).to.include({ ok: false, reason: 'timeout: the file read did not complete' });
    expect(sent).to.deep.equal([1]);
  });

  it('builds the next window while one is in flight; bytes are counted when a block is first sent', async () => {
    const data = Buffer.alloc(12 * 512 + 100, 7);
    const source = new ChunkPackets(bufferChunks(data), 512, 64 * 516, () => true);
    const firstAsked: number[] = [];
    const asked = new Set<number>();
    const sent: number[] = [];
    let counted = 0;
    const ends: TransferEnd[] = [];
    const t = new ReadTransfer({
      source: {
        blksize: 512,
        packet: (n: number) => {
          if (!asked.has(n)) (asked.add(n), firstAsked.push(n));
          return source.packet(n);
        },
        release: (n: number) => source.release(n),
      },
      windowsize: 4,
      oack: [],
      timing: { timeoutMs: 100, backoff: 2, maxTimeoutMs: 1000, retries: 3 },
      send: (buf) => void sent.push(buf.readUInt16BE(2)),
      stats: { retransmit: () => undefined, duplicateAck: () => undefined, bytes: (k) => void (counted += k) },
      onEnd: (e) => void ends.push(e),
    });
    t.start();
    await clock.tickAsync(0);
    expect(sent).to.deep.equal([1, 2, 3, 4]);
    expect(firstAsked, 'blocks built before their ACK').to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(counted).to.equal(4 * 512);
    t.onPacket(ack(4));
    await clock.tickAsync(0);
    expect(sent).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(firstAsked).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    t.onPacket(ack(8));
    await clock.tickAsync(0);
    t.onPacket(ack(12));
    await clock.tickAsync(0);
    expect(firstAsked, 'nothing past the short final block').to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    t.onPacket(ack(13));
    expect(ends[0]).to.include({ ok: true, bytes: data.length, blocks: 13 });
    expect(counted).to.equal(data.length);
  });

  it('reads of the next window landing while the window waits for its ACK do not push its retransmission back', async () => {
    const sent: string[] = [];
    const block = (n: number) => Buffer.concat([Buffer.from([0, 3, 0, n]), Buffer.alloc(512)]);
    const t = new ReadTransfer({
      // Blocks 5-8 (the next window, built ahead) take 60 ms each to read.
      source: { blksize: 512, packet: (n: number) => (n <= 4 ? block(n) : new Promise<Buffer>((r) => setTimeout(() => r(block(n)), 60))), release: () => undefined },
      windowsize: 4,
      oack: [],
      timing: { timeoutMs: 100, backoff: 2, maxTimeoutMs: 1000, retries: 3 },
      send: (buf) => void sent.push(`${buf.readUInt16BE(2)}@${Date.now() - 1000}`),
      stats: { retransmit: () => undefined, duplicateAck: () => undefined, bytes: () => undefined },
      onEnd: () => undefined,
    });
    t.start();
    await clock.tickAsync(400); // the client lost the window and never ACKs
    expect(sent).to.deep.equal(['1@0', '2@0', '3@0', '4@0', '1@100', '2@100', '3@100', '4@100', '1@300', '2@300', '3@300', '4@300']);
  });

  it('a read of the next window still in flight does not hold back the retransmission of the current one', async () => {
    const sent: number[] = [];
    const block = (n: number) => Buffer.concat([Buffer.from([0, 3, 0, n]), Buffer.alloc(512)]);
    const t = new ReadTransfer({
      // Blocks 1-4 come at once; block 5's read (started while 1-4 are in flight) never completes.
      source: { blksize: 512, packet: (n: number) => (n <= 4 ? block(n) : new Promise<Buffer>(() => undefined)), release: () => undefined },
      windowsize: 4,
      oack: [],
      timing: { timeoutMs: 100, backoff: 2, maxTimeoutMs: 1000, retries: 3 },
      send: (buf) => void sent.push(buf.readUInt16BE(2)),
      stats: { retransmit: () => undefined, duplicateAck: () => undefined, bytes: () => undefined },
      onEnd: () => undefined,
    });
    t.start();
    await clock.tickAsync(0);
    t.onPacket(ack(2)); // a gap ACK: 3 and 4 again
    await clock.tickAsync(0);
    expect(sent).to.deep.equal([1, 2, 3, 4, 3, 4]);
    await clock.tickAsync(100); // no ACK: the unacknowledged window again
    expect(sent).to.deep.equal([1, 2, 3, 4, 3, 4, 3, 4]);
  });

  it('lock-step: one DATA per new ACK, an empty final block after an exact multiple', async () => {
    const { t, sent, ends } = setup({ size: 1024 });
    t.start();
    await clock.tickAsync(0);
    expect(sent.map((s) => s.block)).to.deep.equal([1]);
    t.onPacket(ack(1));
    await clock.tickAsync(0);
    t.onPacket(ack(2));
    await clock.tickAsync(0);
    expect(sent.map((s) => [s.block, s.len])).to.deep.equal([
      [1, 512],
      [2, 512],
      [3, 0],
    ]);
    t.onPacket(ack(3));
    expect(ends).to.have.length(1);
    expect(ends[0]).to.include({ ok: true, bytes: 1024, blocks: 3, unconfirmed: false });
  });

  it('backs off: resends at +100, +200, +400 ms, then fails after the last wait', async () => {
    const { t, sent, ends } = setup({ size: 2000 });
    t.start();
    await clock.tickAsync(1499);
    expect(sent.map((s) => s.at - 1000)).to.deep.equal([0, 100, 300, 700]);
    expect(ends).to.have.length(0);
    await clock.tickAsync(1);
    expect(ends[0]).to.include({ ok: false });
    expect((ends[0] as { reason: string }).reason).to.match(/^timeout/);
  });

  it('progress resets the backed-off timeout to the base value', async () => {
    const { t, sent } = setup({ size: 5000 });
    t.start();
    await clock.tickAsync(300); // resends at 100 and 300: the next wait would be 400
    t.onPacket(ack(1));
    await clock.tickAsync(0);
    const dataAt = sent.filter((s) => s.block === 2)[0].at;
    await clock.tickAsync(100);
    expect(sent.filter((s) => s.block === 2).map((s) => s.at - dataAt)).to.deep.equal([0, 100]);
  });

  it('ignores duplicate and stale ACKs (no DATA for them)', async () => {
    const { t, sent } = setup({ size: 5000 });
    t.start();
    await clock.tickAsync(0);
    t.onPacket(ack(1));
    await clock.tickAsync(0);
    const n = sent.length;
    expect(n).to.equal(2);
    t.onPacket(ack(1));
    t.onPacket(ack(0));
    t.onPacket(ack(9)); // from the future
    await clock.tickAsync(50);
    expect(sent.length).to.equal(n);
  });

  it('OACK first; resent on timeout; DATA only after ACK 0', async () => {
    const { t, sent } = setup({ size: 100, oack: [{ name: 'tsize', value: '100' }] });
    t.start();
    await clock.tickAsync(100);
    expect(sent.map((s) => s.op)).to.deep.equal(['OACK', 'OACK']);
    t.onPacket(ack(1)); // wrong: must be ACK 0
    await clock.tickAsync(0);
    expect(sent.map((s) => s.op)).to.deep.equal(['OACK', 'OACK']);
    t.onPacket(ack(0));
    await clock.tickAsync(0);
    expect(sent.at(-1)).to.include({ op: 'DATA', block: 1, len: 100 });
  });

  it('windows: sends windowsize blocks, slides on the last ACK, restarts after a gap ACK', async () => {
    const { t, sent } = setup({ size: 512 * 12 + 1, windowsize: 4 });
    t.start();
    await clock.tickAsync(0);
    expect(sent.map((s) => s.block)).to.deep.equal([1, 2, 3, 4]);
    t.onPacket(ack(4));
    await clock.tickAsync(0);
    expect(sent.slice(4).map((s) => s.block)).to.deep.equal([5, 6, 7, 8]);
    t.onPacket(ack(6));
    await clock.tickAsync(0);
    expect(sent.slice(8).map((s) => s.block)).to.deep.equal([7, 8, 9, 10]);
    await clock.tickAsync(100); // timeout: the whole window again
    expect(sent.slice(12).map((s) => s.block)).to.deep.equal([7, 8, 9, 10]);
  });

  it('rolls block numbers over past 65535 and ends exactly (blksize 8, 70 000 blocks, windowsize 8)', async () => {
    const size = 8 * 70000 + 5;
    const { t, sent, ends } = setup({ size, blksize: 8, windowsize: 8 });
    t.start();
    let acked = 0;
    while (ends.length === 0) {
      await clock.tickAsync(0);
      const last = sent.at(-1)!;
      const abs = acked + ((last.block! - (acked & 0xffff) + 0x10000) & 0xffff);
      acked = abs;
      t.onPacket(ack(abs));
    }
    expect(ends[0]).to.include({ ok: true, bytes: size, blocks: 70001 });
    expect(sent.filter((s) => s.block === 0)).to.have.length(1); // block 65536 goes out as 0
    expect(sent.length).to.equal(70001); // nothing sent twice
  });

  it('a lost final ACK alone ends as done but unconfirmed', async () => {
    const { t, ends } = setup({ size: 100 });
    t.start();
    await clock.tickAsync(1500);
    expect(ends[0]).to.include({ ok: true, unconfirmed: true, bytes: 100 });
  });

  it('ERROR from the client ends the transfer; abort sends ERROR', async () => {
    const a = setup({ size: 5000 });
    a.t.start();
    a.t.onPacket({ op: 'ERROR', code: 0, message: 'user abort' });
    expect(a.ends[0]).to.include({ ok: false });
    const b = setup({ size: 5000 });
    b.t.start();
    b.t.abort('server stopping');
    expect(b.sent.at(-1)?.op).to.equal('ERROR');
    expect(b.ends[0]).to.include({ ok: false, reason: 'server stopping' });
  });

  it('with a data plane: one timer however long the pilot runs, no retransmission while it progresses, and the deadline runs from its last ACK', async () => {
    const { t, step, sent, ends } = piloted(400);
    t.start();
    expect(sent).to.deep.equal([1]);
    // The pilot takes an ACK every 5 ms for 1.5 s: the transfer's timer goes off every 100 ms and
    // finds progress each time.
    for (let i = 0; i < 300; i++) {
      step();
      await clock.tickAsync(5);
      expect(clock.countTimers(), `timers after ${(i + 1) * 5} ms`).to.be.at.most(1);
    }
    expect(sent).to.deep.equal([1]); // JS sent nothing more: no retransmission
    // The client goes quiet (the pilot's last ACK was 5 ms ago, for block 300): block 301 goes out
    // again 100 ms after that ACK, not before.
    await clock.tickAsync(90);
    expect(sent).to.deep.equal([1]);
    await clock.tickAsync(10);
    expect(sent).to.deep.equal([1, 301]);
    expect(ends).to.have.length(0);
  });

  it('with a data plane: an ACK JS handles (a duplicate) hands the transfer back to it afterwards', async () => {
    const { t, step, sent, engages } = piloted(10);
    t.start();
    expect(engages()).to.equal(1);
    step(); // the pilot took ACK 1 and sent block 2
    t.onPacket(ack(1)); // a duplicate, which the pilot hands to JS: no DATA for it
    expect(sent).to.deep.equal([1]);
    expect(engages()).to.equal(2);
    expect(step()).to.equal(true); // and the pilot carries on from ACK 2
  });
});
