import type { BootEvent, BootEventLog, LeaseStore, Logger, StoredBootEvent } from '@pureboot/core';
import { intToIp, ipToInt } from '@pureboot/core';
import { normaliseMac } from './mac';

const MAX_ADDRESSES = 65536;

export interface TimelineDeps {
  bootEvents: BootEventLog;
  logger: Logger;
  /** Optional: a lease store to ask when the address was never seen in an event (after a restart). */
  leaseStore?: () => LeaseStore | undefined;
  onPersisted?: (ev: BootEvent, attributed: boolean) => void;
  /** An event that was not stored: too many still being stored (`backlog`) or the store failed (`error`). */
  onDropped?: (ev: BootEvent, reason: 'backlog' | 'error') => void;
  /** Events being stored at most (default 10 000): a stalled store must not make memory grow. */
  maxInFlight?: number;
}

/**
 * Persists every bootEvent into the bootEvents store. Events without a MAC (TFTP knows only the
 * client's IP) are attributed to the MAC of the latest DHCP/proxy-DHCP event for that IP; events that
 * cannot be attributed are counted and dropped.
 */
export class TimelineRecorder {
  private readonly macByIp = new Map<string, string>();
  private inFlight = 0;
  private readonly maxInFlight: number;
  private lastBacklogWarning = 0;

  constructor(private readonly deps: TimelineDeps) {
    this.maxInFlight = deps.maxInFlight ?? 10000;
  }

  /**
   * The bootEvent tap (a sync one): the event is stored in the background and the notification does
   * not wait for the store. A boot request's own event then costs no hook promise and no deadline
   * timer (bench:http: 3–5 % more requests/s than a promise tap). Events that carry their MAC are
   * stored in batches with the store's `appendMany` (one engine operation or SQL statement per batch
   * instead of one per event: another 3–5 % in bench:http). One batch is stored at a time, in order;
   * the events that arrive meanwhile form the next (at most one event-loop turn later), so with a
   * slow store batches grow instead of statements piling up. A rejected batch is stored again event
   * by event, in order, so only a bad event is lost.
   * What a deadline did for a promise tap is done here: a store that stops answering makes events
   * drop (counted, warned about once a minute) once `maxInFlight` wait, and a failed store call is
   * logged and counted.
   */
  take(ev: BootEvent): void {
    if (this.inFlight >= this.maxInFlight) {
      this.deps.onDropped?.(ev, 'backlog');
      const now = Date.now();
      if (now - this.lastBacklogWarning >= 60000) {
        this.lastBacklogWarning = now;
        this.deps.logger.warn({ inFlight: this.inFlight, kind: ev.kind }, 'boot events are not being stored fast enough: dropping new ones until the store catches up');
      }
      return;
    }
    const mac = ev.mac ? normaliseMac(ev.mac) : undefined;
    if (mac && this.deps.bootEvents.appendMany) {
      this.learn(ev, mac);
      const stored = storedForm(ev, mac);
      this.inFlight++;
      this.batch.push(ev);
      this.batchStored.push(stored);
      if (!this.scheduled && !this.storing) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
      return;
    }
    this.inFlight++;
    this.track(this.record(ev).then(this.oneStored, (err: unknown) => this.failed(ev, err)));
  }

  /** Events being stored now (or waiting for their batch). */
  get pending(): number {
    return this.inFlight;
  }

  /** Resolves when every event taken so far is stored or dropped (boot-api waits for it on stop). */
  async settled(): Promise<void> {
    while (this.inFlight > 0 || this.tracked.size > 0) {
      const waiting = [...this.tracked, ...(this.batchDone ? [this.batchDone] : [])];
      // A batch not yet flushed waits for its setImmediate: let the loop turn.
      if (waiting.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      else await Promise.allSettled(waiting);
    }
  }

  private batch: BootEvent[] = [];
  private batchStored: Array<Omit<StoredBootEvent, 'seq'>> = [];
  private scheduled = false;
  private storing = false;
  private batchDone: Promise<void> | undefined;
  private readonly tracked = new Set<Promise<void>>();

  private track(p: Promise<void>): void {
    this.tracked.add(p);
    void p.finally(() => this.tracked.delete(p));
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.storing || this.batch.length === 0) return;
    const evs = this.batch;
    const stored = this.batchStored;
    this.batch = [];
    this.batchStored = [];
    this.storing = true;
    this.batchDone = this.storeBatch(evs, stored)
      .catch((err: unknown) => this.deps.logger.error({ err }, 'boot-api: storing a batch of boot events failed'))
      .finally(() => {
        this.storing = false;
        this.batchDone = undefined;
        if (this.batch.length > 0) this.flush();
      });
  };

  private async storeBatch(evs: BootEvent[], stored: Array<Omit<StoredBootEvent, 'seq'>>): Promise<void> {
    let ok = true;
    try {
      await this.deps.bootEvents.appendMany!(stored);
    } catch {
      ok = false;
    }
    if (ok) {
      this.inFlight -= evs.length;
      for (const ev of evs) this.deps.onPersisted?.(ev, true);
      return;
    }
    for (let i = 0; i < evs.length; i++) {
      try {
        await this.deps.bootEvents.append(stored[i]);
      } catch (err) {
        this.failed(evs[i], err);
        continue;
      }
      this.inFlight--;
      this.deps.onPersisted?.(evs[i], true);
    }
  }

  private failed(ev: BootEvent, err: unknown): void {
    this.inFlight--;
    this.deps.onDropped?.(ev, 'error');
    this.deps.logger.error({ err, kind: ev.kind }, 'a boot event could not be stored in the timeline');
  }

  private readonly oneStored = (): void => {
    this.inFlight--;
  };

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
    await this.deps.bootEvents.append(storedForm(ev, mac));
    this.deps.onPersisted?.(ev, true);
  }
}

/** The event as the timeline keeps it: its MAC resolved, the client address in the detail. */
function storedForm(ev: BootEvent, mac: string): Omit<StoredBootEvent, 'seq'> {
  const detail = ev.address && !('address' in ev.detail) ? { ...ev.detail, address: ev.address } : ev.detail;
  return { mac, at: ev.at, source: ev.source, kind: ev.kind, detail };
}
