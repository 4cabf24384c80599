/**
 * A small TFTP read client written for the tests and the benchmark: it negotiates RFC 7440
 * `windowsize` (none of the packaged clients do), blksize, tsize and timeout, handles block-number
 * rollover, and counts duplicate DATA. Run as a script it prints one JSON line (for netns tests):
 *   tftp-client.ts HOST PORT FILE [--blksize N] [--windowsize N] [--tsize] [--timeout-ms N] [--out PATH] [--mode netascii]
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { NetasciiDecoder } from '../../src/codec/netascii';
import { parsePacket, serializeAck, serializeRequest, type TftpOption } from '../../src/codec/packet';

export interface GetOptions {
  host: string;
  port: number;
  file: string;
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** Extra raw options sent as-is. */
  extra?: TftpOption[];
  mode?: 'octet' | 'netascii';
  /** Client retransmission timeout (ACK resend). */
  timeoutMs?: number;
  /** Give up after this long in total. */
  deadlineMs?: number;
  /** Write the file here instead of keeping it in memory. */
  out?: string;
  /** Keep the bytes in the result (default when `out` is not given). */
  keep?: boolean;
}

export interface GetResult {
  ok: boolean;
  error?: { code: number; message: string };
  reason?: string;
  bytes: number;
  sha256: string;
  data?: Buffer;
  oack?: Record<string, string>;
  blocks: number;
  duplicateData: number;
  acksSent: number;
  durationMs: number;
  serverPort?: number;
}

export function tftpGet(o: GetOptions): Promise<GetResult> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const started = Date.now();
    const hash = crypto.createHash('sha256');
    const keep = o.keep ?? !o.out;
    const parts: Buffer[] = [];
    const fd = o.out ? fs.openSync(o.out, 'w') : undefined;
    const decoder = o.mode === 'netascii' ? new NetasciiDecoder() : undefined;
    const options: TftpOption[] = [];
    if (o.blksize) options.push({ name: 'blksize', value: String(o.blksize) });
    if (o.windowsize) options.push({ name: 'windowsize', value: String(o.windowsize) });
    if (o.tsize) options.push({ name: 'tsize', value: '0' });
    options.push(...(o.extra ?? []));
    const rrq = serializeRequest('RRQ', o.file, o.mode ?? 'octet', options);
    let server: { address: string; port: number } | undefined;
    let blksize = 512;
    let windowsize = 1;
    let expected = 1; // absolute
    let inWindow = 0;
    let bytes = 0;
    let duplicateData = 0;
    let acksSent = 0;
    let oack: Record<string, string> | undefined;
    let lastSent: Buffer = rrq;
    let done = false;
    const timeoutMs = o.timeoutMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => finish(false, 'deadline'), o.deadlineMs ?? 60000);

    const emit = (data: Buffer) => {
      const d = decoder ? decoder.push(data) : data;
      hash.update(d);
      bytes += d.length;
      if (fd !== undefined) fs.writeSync(fd, d);
      if (keep) parts.push(Buffer.from(d));
    };
    const send = (buf: Buffer) => {
      lastSent = buf;
      sock.send(buf, server?.port ?? o.port, server?.address ?? o.host);
      if (buf !== rrq) acksSent++;
      arm();
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        if (done) return;
        sock.send(lastSent, server?.port ?? o.port, server?.address ?? o.host);
        arm();
      }, timeoutMs);
    };
    let finished = false;
    function finish(ok: boolean, reason?: string, error?: { code: number; message: string }) {
      if (finished) return;
      finished = true;
      done = true;
      if (timer) clearTimeout(timer);
      clearTimeout(overall);
      if (decoder) {
        const tail = decoder.end();
        if (tail.length) emit(tail);
      }
      if (fd !== undefined) fs.closeSync(fd);
      sock.close();
      resolve({ ok, reason, error, bytes, sha256: hash.digest('hex'), data: keep ? Buffer.concat(parts) : undefined, oack, blocks: expected - 1, duplicateData, acksSent, durationMs: Date.now() - started, serverPort: server?.port });
    }

    sock.on('message', (msg, rinfo) => {
      if (done) return;
      if (!server) server = { address: rinfo.address, port: rinfo.port };
      else if (rinfo.port !== server.port || rinfo.address !== server.address) return;
      const r = parsePacket(msg);
      if (!r.ok) return;
      const p = r.packet;
      if (p.op === 'ERROR') return finish(false, 'error', { code: p.code, message: p.message });
      if (p.op === 'OACK') {
        if (oack) return send(serializeAck(0)); // duplicate OACK: our ACK 0 was lost
        oack = Object.fromEntries(p.options.map((x) => [x.name, x.value]));
        if (oack.blksize) blksize = Number(oack.blksize);
        if (oack.windowsize) windowsize = Number(oack.windowsize);
        return send(serializeAck(0));
      }
      if (p.op !== 'DATA') return;
      if (p.block === (expected & 0xffff)) {
        emit(p.data);
        expected++;
        inWindow++;
        const last = p.data.length < blksize;
        if (last) {
          acksSent++;
          // Close only once the final ACK has left (closing right after send() can discard it).
          sock.send(serializeAck(expected - 1), server.port, server.address, () => finish(true));
          done = true;
          return;
        }
        if (inWindow >= windowsize) {
          inWindow = 0;
          send(serializeAck(expected - 1));
        } else arm();
      } else {
        // A duplicate or a block after a gap: re-ACK the last in-order block (RFC 7440 §4).
        duplicateData++;
        inWindow = 0;
        send(serializeAck(expected - 1));
      }
    });
    sock.on('error', (err) => finish(false, err.message));
    sock.bind(0, () => send(rrq));
  });
}

if (require.main === module) {
  const [host, port, file, ...rest] = process.argv.slice(2);
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i === -1 ? undefined : rest[i + 1];
  };
  void tftpGet({
    host,
    port: Number(port),
    file,
    blksize: flag('--blksize') ? Number(flag('--blksize')) : undefined,
    windowsize: flag('--windowsize') ? Number(flag('--windowsize')) : undefined,
    tsize: rest.includes('--tsize'),
    timeoutMs: flag('--timeout-ms') ? Number(flag('--timeout-ms')) : undefined,
    deadlineMs: flag('--deadline-ms') ? Number(flag('--deadline-ms')) : undefined,
    out: flag('--out'),
    keep: false,
    mode: flag('--mode') === 'netascii' ? 'netascii' : 'octet',
  }).then((r) => {
    process.stdout.write(JSON.stringify({ ...r, data: undefined }) + '\n');
    process.exit(r.ok ? 0 : 1);
  });
}
