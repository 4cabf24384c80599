import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pureboot, type BootEvent, type PacketDroppedEvent } from '@pureboot/core';
import pino from 'pino';
import type { TftpServer } from '../../src/server/server';

export interface TftpHarness {
  k: Pureboot;
  server: TftpServer;
  port: number;
  root: string;
  /** Every boot event and dropped datagram (unless `keepEvents: false`: then only counted). */
  events: BootEvent[];
  drops: PacketDroppedEvent[];
  /** Boot events by kind (always). */
  eventCounts: Map<string, number>;
  /** Value of a counter/gauge (summed over labels matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** A PureBoot with only the TFTP plugin on 127.0.0.1:<port>, serving a fresh temp root. */
export async function startTftp(opts: { port: number; tftp?: Record<string, unknown>; root?: string; plugins?: string[]; extraConfig?: Record<string, unknown>; keepEvents?: boolean }): Promise<TftpHarness> {
  const root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-root-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-data-'));
  const k = await Pureboot.create({
    config: {
      plugins: [...(opts.plugins ?? []), 'tftp'],
      server: { dataDir, logLevel: 'silent' },
      files: { root },
      tftp: { address: '127.0.0.1', port: opts.port, ...opts.tftp },
      ...opts.extraConfig,
    },
    configDir: dataDir,
    logger: pino({ level: process.env.PB_TEST_LOG ?? 'silent' }),
  });
  const events: BootEvent[] = [];
  const drops: PacketDroppedEvent[] = [];
  const eventCounts = new Map<string, number>();
  // The benchmark's server keeps no events: a list of every event of every run would grow the heap
  // (and its scavenges) in a way no deployment does.
  const keep = opts.keepEvents ?? true;
  k.hooks.bootEvent.tap('test', (e) => {
    eventCounts.set(e.kind, (eventCounts.get(e.kind) ?? 0) + 1);
    if (keep) events.push(e);
  });
  if (keep) k.hooks.packetDropped.tap('test', (e) => void drops.push(e));
  await k.start();
  const server = k.services.tftpServer;
  return {
    k,
    server,
    port: server.address?.port ?? opts.port,
    root,
    events,
    drops,
    eventCounts,
    async metric(name, labels = {}) {
      const m = await k.services.metrics.getSingleMetric(name)?.get();
      if (!m) throw new Error(`no metric ${name}`);
      return m.values.filter((v) => Object.entries(labels).every(([lk, lv]) => String((v.labels as Record<string, unknown>)[lk]) === lv)).reduce((a, v) => a + v.value, 0);
    },
    async stop() {
      await k.stop('test done');
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (!opts.root) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A file of `size` pseudo-random bytes (deterministic per name, AES-CTR keystream); returns its sha256. */
export function makeFile(root: string, name: string, size: number): string {
  const p = path.join(root, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const key = crypto.createHash('sha256').update(name).digest().subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const fd = fs.openSync(p, 'w');
  const hash = crypto.createHash('sha256');
  const chunk = 1 << 20;
  const zeros = Buffer.alloc(chunk);
  for (let off = 0; off < size; off += chunk) {
    const buf = cipher.update(zeros.subarray(0, Math.min(chunk, size - off)));
    fs.writeSync(fd, buf);
    hash.update(buf);
  }
  fs.closeSync(fd);
  return hash.digest('hex');
}

export function sha256File(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** Wait until `fn` is true (bounded). */
export async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
