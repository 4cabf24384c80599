import fs from 'node:fs';
import path from 'node:path';
import type { RunningProcess } from '@pureboot/core/testing';
import { FILES } from './env';
import { NET, type CaseNetwork } from './network';

export type Firmware = 'bios' | 'uefi';

export interface VmOptions {
  firmware: Firmware;
  /** Lower-case colon MAC of the NIC. */
  mac: string;
  /** Folder for the serial log and the private OVMF variable store. */
  dir: string;
  /** Name of this boot (several boots of one VM in a case get their own serial logs). */
  name: string;
  memoryMb?: number;
}

/**
 * One QEMU boot with software emulation (KVM hangs on this host class), attached to the case's tap,
 * booting from the network only. BIOS: SeaBIOS + QEMU's iPXE ROM on an e1000. UEFI: OVMF with a
 * virtio NIC whose option ROM is disabled, so EDK2's own PXE client (arch 7) runs. The serial
 * console goes to `<dir>/<name>.serial.log`; follow it with {@link Vm.waitForSerial}.
 */
export class Vm {
  readonly serialLog: string;
  private proc?: RunningProcess;
  private serialCache = '';
  readonly startedAt = Date.now();

  constructor(
    private readonly net: CaseNetwork,
    readonly opts: VmOptions,
  ) {
    this.serialLog = path.join(opts.dir, `${opts.name}.serial.log`);
  }

  argv(): string[] {
    const { firmware, mac } = this.opts;
    const argv = [
      'qemu-system-x86_64',
      '-accel',
      'tcg',
      '-m',
      String(this.opts.memoryMb ?? 384),
      '-smp',
      '1',
      '-nographic',
      '-monitor',
      'none',
      '-serial',
      `file:${this.serialLog}`,
      '-no-reboot',
      '-netdev',
      `tap,id=n0,ifname=${NET.tap},script=no,downscript=no`,
    ];
    if (firmware === 'bios') {
      argv.push('-boot', 'n', '-device', `e1000,netdev=n0,mac=${mac}`);
    } else {
      const vars = path.join(this.opts.dir, `${this.opts.name}.OVMF_VARS.fd`);
      fs.copyFileSync(FILES.ovmfVars, vars);
      argv.push(
        '-drive',
        `if=pflash,format=raw,readonly=on,file=${FILES.ovmfCode}`,
        '-drive',
        `if=pflash,format=raw,file=${vars}`,
        '-device',
        `virtio-net-pci,netdev=n0,mac=${mac},romfile=`,
      );
    }
    return argv;
  }

  start(): void {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    fs.writeFileSync(this.serialLog, '');
    this.proc = this.net.lab.spawn(this.net.serverNs, this.argv());
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  /** QEMU's own stdout/stderr (errors about the tap, firmware paths …). */
  qemuOutput(): string {
    return this.proc ? this.proc.stdout() + this.proc.stderr() : '';
  }

  /** What the guest printed on its serial console so far. */
  serial(): string {
    try {
      this.serialCache = fs.readFileSync(this.serialLog, 'latin1');
    } catch {
      /* not created yet */
    }
    return this.serialCache;
  }

  exited(): boolean {
    return !this.proc || this.proc.child.exitCode !== null || this.proc.child.signalCode !== null;
  }

  /** Resolves with the match when the serial console shows `re`; rejects on timeout or when QEMU exits first. */
  async waitForSerial(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.serial());
      if (m) return m;
      if (this.exited()) {
        const m2 = re.exec(this.serial());
        if (m2) return m2;
        throw new Error(`QEMU (${this.opts.name}) exited before the serial console showed ${re}\n${this.qemuOutput()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${re} on the serial console of ${this.opts.name}`);
      await sleep(250);
    }
  }

  /** Resolves when QEMU exits by itself (the guest powered off), rejects after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.proc) throw new Error('VM not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`QEMU (${this.opts.name}) still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.proc.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kill QEMU by PID (the guest has no clean way to stop from iPXE). */
  async stop(): Promise<void> {
    if (this.proc) await this.proc.stop('SIGKILL', 3000);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
