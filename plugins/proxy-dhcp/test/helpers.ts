import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Registry } from 'prom-client';
import { createHooks, createLogger, Stage, type BootEvent, type PacketDroppedEvent, type PacketSentEvent, type PurebootHooks } from '@pureboot/core';
import { codec, type DhcpPacket } from '@pureboot/plugin-dhcp';
import { BUILTIN_TAP, ProxyDhcpHandler, TftpDoneTracker, optionsSchema, type ProxyDhcpOptions, type ResolvedProxyOptions } from '../src/index';
import { createProxyMetrics } from '../src/metrics';

export const SERVER = '198.18.3.1';

/** Options as the config loader makes them: the schema's defaults applied, then validated. */
export function proxyOptions(partial: Record<string, unknown> = {}): ResolvedProxyOptions {
  const ajv = new Ajv({ useDefaults: true, strict: false, allErrors: true });
  addFormats(ajv);
  const o = JSON.parse(JSON.stringify(partial)) as Record<string, unknown>;
  const validate = ajv.compile(optionsSchema);
  if (!validate(o)) throw new Error(`bad test options: ${ajv.errorsText(validate.errors)}`);
  const p = o as unknown as ProxyDhcpOptions;
  return { ...p, serverAddress: p.serverAddress ?? SERVER, tftpServer: p.tftpServer ?? p.serverAddress ?? SERVER, httpPort: p.httpPort ?? 8080, broadcast: p.broadcastAddress ?? '255.255.255.255' };
}

export interface Crafted {
  type?: number;
  mac?: string;
  xid?: number;
  arch?: number;
  vendorClass?: string;
  userClass?: string;
  ipxe175?: boolean;
  giaddr?: string;
  ciaddr?: string;
  uuid?: string;
  requestedIp?: string;
  bootItem?: { type: number; layer: number };
  flags?: number;
}

/** A client datagram built with the DHCP codec (PXE firmware layout: 53, 57, 93, 94, 97, 60 …). */
export function craft(c: Crafted = {}): Buffer {
  const p = codec.emptyPacket(1);
  p.xid = c.xid ?? 0x1234abcd;
  p.chaddr = c.mac ?? '52:54:00:aa:bb:01';
  p.flags = c.flags ?? 0x8000;
  if (c.giaddr) p.giaddr = c.giaddr;
  if (c.ciaddr) p.ciaddr = c.ciaddr;
  const o = p.options;
  o.set(53, Buffer.from([c.type ?? 1]));
  o.set(57, Buffer.from([0x05, 0xc0]));
  if (c.requestedIp) o.set(50, Buffer.from(c.requestedIp.split('.').map(Number)));
  if (c.arch !== undefined) {
    const a = Buffer.alloc(2);
    a.writeUInt16BE(c.arch);
    o.set(93, a);
    o.set(94, Buffer.from([1, 3, 0]));
  }
  if (c.uuid) o.set(97, Buffer.from(c.uuid, 'hex'));
  const vc = c.vendorClass ?? (c.arch !== undefined ? `PXEClient:Arch:${String(c.arch).padStart(5, '0')}:UNDI:003000` : undefined);
  if (vc) o.set(60, Buffer.from(vc, 'latin1'));
  if (c.userClass) o.set(77, Buffer.from(c.userClass, 'latin1'));
  if (c.ipxe175) o.set(175, Buffer.from('b105018086100eeb03010000170101', 'hex'));
  if (c.bootItem) o.set(43, codec.encodePxeVendorOptions({ bootItem: c.bootItem }));
  return codec.serializeDhcpPacket(p);
}

interface CapturedPacket {
  name: string;
  source: string;
  hex: string;
}
const capturedFile = path.join(__dirname, 'fixtures', 'captured.json');
/** Datagrams captured from real clients (dhclient, udhcpc, iPXE ROM, OVMF). */
export function captured(name: string): Buffer {
  const all = JSON.parse(fs.readFileSync(capturedFile, 'utf8')) as CapturedPacket[];
  const hit = all.find((x) => x.name === name);
  if (!hit) throw new Error(`no captured packet ${name}`);
  return Buffer.from(hit.hex, 'hex');
}

export function decode(buf: Buffer): DhcpPacket {
  return codec.parseDhcpPacket(buf);
}

export function vendorHex(p: DhcpPacket): string | undefined {
  return p.options.get(43)?.toString('hex');
}

export interface Rig {
  hooks: PurebootHooks;
  handler: ProxyDhcpHandler;
  registry: Registry;
  tracker: TftpDoneTracker;
  dropped: PacketDroppedEvent[];
  sent: PacketSentEvent[];
  events: BootEvent[];
  options: ResolvedProxyOptions;
  clock: { t: number };
}

/** A handler on real hooks with the built-in tap, and recorders on the notification hooks. */
export function rig(partial: Record<string, unknown> = {}): Rig {
  const logger = createLogger('silent');
  const hooks = createHooks({ logger, deadlines: { default: 2000 } });
  const registry = new Registry();
  const options = proxyOptions(partial);
  const clock = { t: 1_700_000_000_000 };
  const tracker = new TftpDoneTracker(options.afterTftpWindowSec * 1000);
  const handler = new ProxyDhcpHandler({ hooks, logger, metrics: createProxyMetrics(registry), now: () => clock.t, options, tracker });
  hooks.leaseDecision.tap({ name: BUILTIN_TAP, stage: Stage.BUILTIN }, (c) => handler.builtinDecision(c));
  const dropped: PacketDroppedEvent[] = [];
  const sent: PacketSentEvent[] = [];
  const events: BootEvent[] = [];
  hooks.packetDropped.tap('test', (e) => void dropped.push(e));
  hooks.packetSent.tap('test', (e) => void sent.push(e));
  hooks.bootEvent.tap('test', (e) => void events.push(e));
  return { hooks, handler, registry, tracker, dropped, sent, events, options, clock };
}

export async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const v = await m.get();
  return v.values.filter((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val)).reduce((a, x) => a + x.value, 0);
}
