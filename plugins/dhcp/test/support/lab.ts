import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Pureboot, type LeaseStore } from '@pureboot/core';
import { NetLab } from '@pureboot/core/testing';
import type { Registry } from 'prom-client';

/**
 * A real network for the DHCP plugin: namespace `srv` runs PureBoot's sockets (opened there with
 * setns), link A srv0 198.18.1.1/24 ↔ cli0 (namespace `cli`, no address), link B srv1 198.18.2.1/24
 * ↔ rly0 198.18.2.2/24 (namespace `rly`, where perfdhcp acts as a relay).
 */
export interface DhcpLab {
  lab: NetLab;
  k: Pureboot;
  store: LeaseStore;
  metrics: Registry;
  dir: string;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  destroy(): Promise<void>;
}

export async function startDhcpLab(dhcp: Record<string, unknown>): Promise<DhcpLab> {
  const lab = new NetLab();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-dhcp-lab-'));
  try {
    await lab.addNamespace('srv');
    await lab.addNamespace('cli');
    await lab.addNamespace('rly');
    await lab.veth({ ns: 'srv', ifname: 'srv0', cidr: '198.18.1.1/24' }, { ns: 'cli', ifname: 'cli0' });
    await lab.veth({ ns: 'srv', ifname: 'srv1', cidr: '198.18.2.1/24' }, { ns: 'rly', ifname: 'rly0', cidr: '198.18.2.2/24' });
    const k = await Pureboot.create({
      config: { plugins: ['storage-memory', 'dhcp'], server: { dataDir: dir, logLevel: 'silent' }, dhcp: { ...dhcp, netns: lab.ns('srv') } },
      configDir: dir,
      logger: pino({ level: process.env.PB_DHCP_LOG ?? 'silent' }),
    });
    await k.start();
    const metrics = k.services.metrics;
    return {
      lab,
      k,
      store: k.services.leaseStore,
      metrics,
      dir,
      async counter(name, labels = {}) {
        const m = await metrics.getSingleMetric(name)?.get();
        return (m?.values ?? []).filter((x) => Object.entries(labels).every(([key, v]) => x.labels[key] === v)).reduce((a, x) => a + x.value, 0);
      },
      async destroy() {
        await k.stop('test done').catch(() => undefined);
        await lab.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Poll until `fn` returns a truthy value (bounded). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** udhcpc / dhclient hook scripts that configure the address inside the client's own namespace. */
export function writeClientScripts(dir: string): { udhcpc: string; dhclient: string } {
  const udhcpc = path.join(dir, 'udhcpc.sh');
  fs.writeFileSync(
    udhcpc,
    '#!/bin/sh\ncase "$1" in\n  deconfig) ip -4 addr flush dev "$interface" ;;\n  bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;\nesac\nexit 0\n',
    { mode: 0o755 },
  );
  const dhclient = path.join(dir, 'dhclient.sh');
  fs.writeFileSync(
    dhclient,
    '#!/bin/sh\ncase "$reason" in\n  BOUND|RENEW|REBIND|REBOOT) ip -4 addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;\n  RELEASE|EXPIRE|STOP) ip -4 addr flush dev "$interface" ;;\nesac\nexit 0\n',
    { mode: 0o755 },
  );
  return { udhcpc, dhclient };
}
