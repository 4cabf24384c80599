/** One pending tap call: `expire` runs when the call overruns its deadline. */
export interface DeadlineEntry {
  readonly at: number;
  settled: boolean;
  readonly expire: () => void;
}

/**
 * The deadlines of one hook's tap calls. Every call of a hook gets the same deadline length, so calls
 * expire in the order they started: a FIFO with a single timer, armed for its oldest unsettled entry,
 * does the work of a setTimeout + clearTimeout per call (a Timeout object and two timer-list
 * operations on every DHCP packet and boot request). Times are Date.now() milliseconds, the clock
 * setTimeout follows (fake timers included).
 */
export class DeadlineQueue {
  private entries: DeadlineEntry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Start timing a call. */
  add(expire: () => void): DeadlineEntry {
    const entry: DeadlineEntry = { at: Date.now() + this.ms, settled: false, expire };
    this.entries.push(entry);
    if (this.timer === undefined) this.arm(entry.at);
    return entry;
  }

  /** The call finished: true when it did so in time (false: it had already expired). */
  settle(entry: DeadlineEntry): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    this.dropSettled();
    return true;
  }

  /** Calls still being timed. */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.entries.length; i++) if (!this.entries[i].settled) n++;
    return n;
  }

  /**
   * The timer is never cleared: when every call settles in time it fires once, finds nothing due and
   * is not re-armed. A server answering calls one after another thus arms one timer per deadline
   * period instead of one per call. It is unref'd: a pending deadline alone never keeps the process
   * alive (the tap's own work — a socket, a query — does).
   */
  private arm(at: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private dropSettled(): void {
    const entries = this.entries;
    while (this.head < entries.length && entries[this.head].settled) this.head++;
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }

  private fire(): void {
    this.timer = undefined;
    const now = Date.now();
    const entries = this.entries;
    while (this.head < entries.length) {
      const e = entries[this.head];
      if (!e.settled) {
        if (e.at > now) break;
        e.settled = true;
        e.expire();
      }
      this.head++;
    }
    this.dropSettled();
    if (this.head < this.entries.length && this.timer === undefined) this.arm(this.entries[this.head].at);
  }
}
