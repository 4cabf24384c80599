import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningProcess } from '@pureboot/core/testing';
import { caseConfig, CHAIN_URL, populateStaticRoot, type BootFileMap, type DhcpMode } from './config';
import { startAddressOnlyDhcp } from './dnsmasq';
import { artifactsRoot } from './env';
import { CaseNetwork } from './network';
import { PurebootProcess } from './pureboot';
import { Vm, type Firmware } from './qemu';
import { describeEvent, TimelineFollower, type TimelineEvent } from './timeline';

/** Every case must finish within this (the bound), setup and teardown included. */
export const CASE_LIMIT_MS = 180000;

/**
 * What a failed boot prints on the serial console: iPXE giving up, EDK2's PXE errors, SeaBIOS with
 * nothing left to boot. Seeing one ends the wait at once instead of at the timeout.
 */
export const BOOT_FAILURE_SIGNS = /Nothing to boot|No more network devices|No bootable device|PXE-E\d\d|Could not (?:boot|start)|could not load the installer|TFTP Error|Not Found \(https?:\/\/ipxe\.org/i;

export interface CaseOptions {
  name: string;
  firmware: Firmware;
  mode: DhcpMode;
  mac: string;
  storage?: string;
  bootFiles?: BootFileMap;
  profiles?: Record<string, unknown>;
  /** Extra files for the static root (path inside the root → source file). */
  staticFiles?: Record<string, string>;
  /** Runs before PureBoot starts (the case folder exists); returns more static files (path inside the root → source file). */
  prepare?: (c: E2eCase) => Promise<Record<string, string>>;
  /** Live view: called for every new timeline event (demo). */
  onEvent?: (e: TimelineEvent, line: string) => void;
  /** Progress notes (demo, debugging). */
  log?: (msg: string) => void;
}

/** A failed case: the message carries the artifacts folder and the tail of the serial console. */
export class E2eFailure extends Error {
  constructor(
    message: string,
    readonly serialLog: string,
    readonly artifactsDir: string,
    readonly timeline: TimelineEvent[],
  ) {
    super(message);
    this.name = 'E2eFailure';
  }
}

function tail(text: string, lines: number): string {
  const all = text.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * One end-to-end case: its own namespaces, bridge and tap, a packet capture, PureBoot (and dnsmasq
 * in proxy cases) and one or more QEMU boots, followed through the timeline API and the serial
 * console. close() stops everything by PID and removes the namespaces; the artifacts folder is kept
 * when the case failed (or PUREBOOT_E2E_KEEP=1) and removed when it passed.
 */
export class E2eCase {
  readonly dir: string;
  readonly staticRoot: string;
  readonly net = new CaseNetwork();
  readonly token = crypto.randomBytes(24).toString('hex');
  readonly startedAt = Date.now();
  staticSizes: Record<string, number> = {};
  pureboot!: PurebootProcess;
  timeline!: TimelineFollower;
  addressServer?: RunningProcess;
  readonly vms: Vm[] = [];

  constructor(readonly opts: CaseOptions) {
    this.dir = path.join(artifactsRoot(), opts.name);
    this.staticRoot = path.join(this.dir, 'static');
  }

  log(msg: string): void {
    this.opts.log?.(msg);
  }

  remainingMs(): number {
    return Math.max(1000, CASE_LIMIT_MS - (Date.now() - this.startedAt));
  }

  async open(): Promise<void> {
    const o = this.opts;
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.staticRoot, { recursive: true });
    this.staticSizes = populateStaticRoot(this.staticRoot);
    const extra = o.prepare ? await o.prepare(this) : {};
    for (const [rel, src] of Object.entries({ ...o.staticFiles, ...extra })) {
      fs.mkdirSync(path.dirname(path.join(this.staticRoot, rel)), { recursive: true });
      fs.copyFileSync(src, path.join(this.staticRoot, rel));
      this.staticSizes[rel] = fs.statSync(src).size;
    }
    await this.net.setup({ addressServerNamespace: o.mode !== 'dhcp' });
    await this.net.startCapture(path.join(this.dir, 'capture.pcap'));
    this.log('network namespaces, bridge, tap and packet capture ready');
    if (o.mode !== 'dhcp') {
      this.addressServer = await startAddressOnlyDhcp(this.net, path.join(this.dir, 'dnsmasq.leases'), { bootUrl: o.mode === 'http-only' ? CHAIN_URL : undefined });
      this.log(o.mode === 'proxy' ? 'dnsmasq (addresses only) running in its own namespace' : 'dnsmasq (addresses + chain URL) running in its own namespace');
    }
    const config = caseConfig({
      mode: o.mode,
      dataDir: path.join(this.dir, 'var'),
      staticRoot: this.staticRoot,
      token: this.token,
      storage: o.storage,
      bootFiles: o.bootFiles,
      profiles: o.profiles,
    });
    this.pureboot = new PurebootProcess(this.net, this.dir, config, this.token);
    await this.pureboot.start();
    this.log('PureBoot started');
    this.timeline = new TimelineFollower(this.pureboot, o.mac, (e) => o.onEvent?.(e, describeEvent(e, this.startedAt)));
    this.timeline.start(1000);
  }

  /** Start a QEMU boot of the case's machine (a fresh VM with the same MAC each time). */
  boot(name = `boot${this.vms.length + 1}`, memoryMb?: number): Vm {
    const vm = new Vm(this.net, { firmware: this.opts.firmware, mac: this.opts.mac, dir: this.dir, name, memoryMb });
    vm.start();
    this.vms.push(vm);
    this.log(`QEMU ${this.opts.firmware} boot "${name}" started (pid ${vm.pid})`);
    return vm;
  }

  /**
   * Wait for `marker` on the serial console, failing at once on a boot-failure sign, when PureBoot
   * dies, or when the case's time is up.
   */
  async waitForSerial(vm: Vm, marker: RegExp, what: string, timeoutMs = this.remainingMs()): Promise<RegExpExecArray> {
    const deadline = Date.now() + Math.min(timeoutMs, this.remainingMs());
    for (;;) {
      const serial = vm.serial();
      const m = marker.exec(serial);
      if (m) {
        this.log(`serial: ${m[0].trim()}`);
        return m;
      }
      const bad = BOOT_FAILURE_SIGNS.exec(serial);
      if (bad) throw this.failure(`boot failed before ${what}: the serial console shows "${bad[0]}"`, vm);
      if (!this.pureboot.running()) throw this.failure(`PureBoot exited while waiting for ${what}`, vm);
      if (vm.exited()) throw this.failure(`QEMU exited before ${what}`, vm);
      if (Date.now() > deadline) throw this.failure(`timed out waiting for ${what} (${marker}) on the serial console`, vm);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async waitForEvent(what: string, pred: (e: TimelineEvent) => boolean, timeoutMs = 20000): Promise<TimelineEvent> {
    try {
      return await this.timeline.waitFor(what, pred, Math.min(timeoutMs, this.remainingMs()));
    } catch (err) {
      throw this.failure((err as Error).message, this.vms[this.vms.length - 1]);
    }
  }

  /** The machine as the API reports it. */
  async node(): Promise<{ mac: string; state: string; profile?: string; arch?: string; history: { from: string | null; to: string; reason: string }[] }> {
    return this.pureboot.api('GET', `/api/v1/nodes/${this.opts.mac}`);
  }

  failure(message: string, vm?: Vm): E2eFailure {
    const serial = vm?.serial() ?? '';
    const parts = [
      `e2e case ${this.opts.name}: ${message}`,
      `artifacts: ${this.dir} (serial log, pureboot.log, timeline.json, capture.pcap)`,
      `--- serial console (${vm?.opts.name ?? 'no boot'}), last 40 lines ---`,
      tail(serial, 40),
      '--- timeline ---',
      ...(this.timeline?.events ?? []).map((e) => describeEvent(e, this.startedAt)),
      '--- PureBoot log, last 15 lines ---',
      tail(this.pureboot?.log() ?? '', 15),
    ];
    if (vm && vm.qemuOutput().trim()) parts.push('--- QEMU output ---', tail(vm.qemuOutput(), 10));
    return new E2eFailure(parts.join('\n'), serial, this.dir, [...(this.timeline?.events ?? [])]);
  }

  async close(passed: boolean): Promise<void> {
    for (const vm of this.vms) await vm.stop().catch(() => undefined);
    await this.timeline?.stop().catch(() => undefined);
    if (this.timeline) fs.writeFileSync(path.join(this.dir, 'timeline.json'), JSON.stringify(this.timeline.events, null, 2) + '\n');
    await this.pureboot?.stop().catch(() => undefined);
    if (this.addressServer) {
      await this.addressServer.stop('SIGTERM', 3000).catch(() => undefined);
      fs.writeFileSync(path.join(this.dir, 'dnsmasq.log'), this.addressServer.stdout() + this.addressServer.stderr());
    }
    for (const vm of this.vms) if (vm.qemuOutput()) fs.writeFileSync(path.join(this.dir, `${vm.opts.name}.qemu.log`), vm.qemuOutput());
    await this.net.destroy();
    if (passed && process.env.PUREBOOT_E2E_KEEP !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
    else fs.rmSync(this.staticRoot, { recursive: true, force: true });
  }
}

const openCases = new Set<E2eCase>();

/** Tear down cases that are still open (a mocha timeout interrupted them): for after() hooks. */
export async function closeOpenCases(): Promise<void> {
  for (const c of [...openCases]) {
    openCases.delete(c);
    await c.close(false).catch(() => undefined);
  }
}

/** Run one case with its time limit; everything is torn down whatever happens. */
export async function runCase(opts: CaseOptions, body: (c: E2eCase) => Promise<void>): Promise<E2eCase> {
  const c = new E2eCase(opts);
  openCases.add(c);
  let passed = false;
  let limitTimer: NodeJS.Timeout | undefined;
  const work = (async () => {
    await c.open();
    await body(c);
  })();
  // After a time-out the body may still reject while it is being torn down: that is expected.
  work.catch(() => undefined);
  try {
    const limit = new Promise<never>((_, reject) => {
      limitTimer = setTimeout(() => reject(c.failure(`did not finish within ${CASE_LIMIT_MS / 1000} s`, c.vms[c.vms.length - 1])), CASE_LIMIT_MS);
    });
    await Promise.race([work, limit]);
    passed = true;
    return c;
  } catch (err) {
    if (err instanceof E2eFailure) throw err;
    throw c.failure((err as Error).message, c.vms[c.vms.length - 1]);
  } finally {
    clearTimeout(limitTimer);
    if (openCases.delete(c)) await c.close(passed);
  }
}
