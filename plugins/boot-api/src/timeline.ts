import type { BootEvent, BootEventLog, LeaseStore, Logger } from '@pureboot/core';
import { intToIp, ipToInt } from '@pureboot/core';
import { normaliseMac } from './mac';

const MAX_ADDRESSES = 65536;

export interface TimelineDeps {
  bootEvents: BootEventLog;
  logger: Logger;
  /** Optional: a lease store to ask when the address was never seen in an event (after a restart). */
  leaseStore?: () => LeaseStore | undefined;
  onPersisted?: (ev: BootEvent, attributed: boolean) => void;
}

/**
 * Persists every bootEvent into the bootEvents store. Events without a MAC (TFTP knows only the
 * client's IP) are attributed to the MAC of the latest DHCP/proxy-DHCP event for that IP; events that
 * cannot be attributed are counted and dropped.
 */
export class TimelineRecorder {
  private readonly macByIp = new Map<string, string>();

  constructor(private readonly deps: TimelineDeps) {}

  /** Remember ip → mac from an event that carries both (DHCP first, but any attributed event helps). */
  learn(ev: BootEvent, mac: string): void {
    if (!ev.address || ev.address === '0.0.0.0') return;
    const isDhcp = ev.kind.startsWith('dhcp.') || ev.kind.startsWith('proxy.');
    if (!isDhcp && this.macByIp.has(ev.address)) return;
    this.macByIp.delete(ev.address);
    this.macByIp.set(ev.address, mac);
    if (this.macByIp.size > MAX_ADDRESSES) this.macByIp.delete(this.macByIp.keys().next().value as string);
  }

  async macFor(address: string | undefined): Promise<string | undefined> {
    if (!address) return undefined;
    const known = this.macByIp.get(address);
    if (known) return known;
    const store = this.deps.leaseStore?.();
    if (!store) return undefined;
    try {
      const lease = await store.findByAddress(ipToInt(address));
      return lease && intToIp(lease.address) === address ? lease.mac : undefined;
    } catch {
      return undefined;
    }
  }

  async record(ev: BootEvent): Promise<void> {
    let mac = ev.mac ? normaliseMac(ev.mac) : undefined;
    if (mac) this.learn(ev, mac);
    else mac = await this.macFor(ev.address);
    if (!mac) {
      this.deps.onPersisted?.(ev, false);
      this.deps.logger.debug({ kind: ev.kind, address: ev.address }, 'boot event without a known MAC: not kept in any timeline');
      return;
    }
    const detail = ev.address && !('address' in ev.detail) ? { ...ev.detail, address: ev.address } : ev.detail;
    await this.deps.bootEvents.append({ mac, at: ev.at, source: ev.source, kind: ev.kind, detail });
    this.deps.onPersisted?.(ev, true);
  }
}
