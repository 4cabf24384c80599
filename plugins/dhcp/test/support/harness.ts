import Ajv from 'ajv';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createHooks, Stage, type LeaseStore, type PurebootHooks } from '@pureboot/core';
import { ManualClock } from '@pureboot/core/testing';
import { createMemoryStores } from '@pureboot/plugin-storage-memory';
import { DhcpMessageType, emptyPacket, parseDhcpPacket, serializeDhcpPacket, setOption, type DhcpPacket } from '../../src/codec';
import { createMetrics, type DhcpMetrics } from '../../src/metrics';
import { optionsSchema, type DhcpPluginOptions, type ListenOptions } from '../../src/options';
import { ALLOCATOR_TAP } from '../../src/server/allocator';
import { DhcpServer } from '../../src/server/dhcp-server';
import { SubnetTable } from '../../src/server/subnets';

/** Options with the schema's defaults applied (as the kernel does). */
export function dhcpOptions(o: Record<string, unknown>): DhcpPluginOptions {
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const copy = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
  if (!ajv.validate(optionsSchema, copy)) throw new Error(ajv.errorsText());
  return copy as unknown as DhcpPluginOptions;
}

export const LINK_A: ListenOptions = { interface: 'srv0', address: '198.18.1.1' };
export const LINK_B: ListenOptions = { interface: 'srv1', address: '198.18.2.1' };

export function twoSubnets(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: [LINK_A, LINK_B],
    subnets: [
      {
        id: 'lab-a',
        cidr: '198.18.1.0/24',
        pools: ['198.18.1.100-198.18.1.199'],
        exclude: ['198.18.1.150-198.18.1.159'],
        router: ['198.18.1.1'],
        dns: ['198.18.1.1'],
        domainName: 'lab.test',
        leaseTimeSec: 600,
        reservations: [{ mac: '02:00:00:00:aa:01', address: '198.18.1.10', hostname: 'reserved1', bootFile: 'custom/host.efi' }],
      },
      { id: 'lab-b', cidr: '198.18.2.0/24', pools: ['198.18.2.100-198.18.2.250'], router: ['198.18.2.1'], leaseTimeSec: 300 },
    ],
    ...extra,
  };
}

export interface Sent {
  to: { address: string; port: number };
  packet: DhcpPacket;
  bytes: Buffer;
  listen: ListenOptions;
}

export interface ServerHarness {
  server: DhcpServer;
  hooks: PurebootHooks;
  store: LeaseStore;
  clock: ManualClock;
  metrics: DhcpMetrics;
  registry: Registry;
  options: DhcpPluginOptions;
  sent: Sent[];
  /** Feed one datagram; returns the replies it caused. */
  ask(p: DhcpPacket | Buffer, o?: { listen?: ListenOptions; from?: { address: string; port: number } }): Promise<Sent[]>;
  counter(name: string, labels: Record<string, string>): Promise<number>;
}

/** The DhcpServer policy with real hooks, the real in-memory lease store and a manual clock; replies captured instead of sent. */
export function serverHarness(raw: Record<string, unknown> = twoSubnets()): ServerHarness {
  const options = dhcpOptions(raw);
  const logger = pino({ level: 'silent' });
  const hooks = createHooks({ logger, deadlines: { default: 1000 } });
  const store = createMemoryStores().leaseStore;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const sent: Sent[] = [];
  const server = new DhcpServer({
    hooks,
    store: () => store,
    clock,
    logger,
    metrics,
    options,
    subnets: new SubnetTable(options),
    send: async (listen, bytes, to) => {
      sent.push({ to, bytes, packet: parseDhcpPacket(bytes), listen });
    },
  });
  hooks.leaseDecision.tapPromise({ name: ALLOCATOR_TAP, stage: Stage.BUILTIN }, (c) => server.allocator.decide(c));
  return {
    server,
    hooks,
    store,
    clock,
    metrics,
    registry,
    options,
    sent,
    async ask(p, o = {}) {
      const before = sent.length;
      const data = Buffer.isBuffer(p) ? p : serializeDhcpPacket(p);
      await server.handle({ data, from: o.from ?? { address: '0.0.0.0', port: 68 }, listen: o.listen ?? options.listen[0] });
      await server.idle();
      return sent.slice(before);
    },
    async counter(name, labels) {
      const m = await registry.getSingleMetric(name)?.get();
      const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
      return v?.value ?? 0;
    },
  };
}

let xid = 1000;
/** A client request as dhclient would send it. */
export function clientPacket(type: number, mac: string, extra: { options?: Record<string, unknown>; ciaddr?: string; giaddr?: string; flags?: number } = {}): DhcpPacket {
  const p = emptyPacket(1);
  p.xid = ++xid;
  p.chaddr = mac;
  p.flags = extra.flags ?? 0;
  if (extra.ciaddr) p.ciaddr = extra.ciaddr;
  if (extra.giaddr) {
    p.giaddr = extra.giaddr;
    p.hops = 1;
  }
  setOption(p, 'messageType', type);
  for (const [k, v] of Object.entries(extra.options ?? {})) setOption(p, k, v);
  if (!p.options.has(55)) setOption(p, 'parameterRequestList', [1, 3, 6, 15, 28, 51, 54, 58, 59, 66, 67]);
  return p;
}

export { DhcpMessageType };
