/**
 * Memory for the 'after-tftp' iPXE policy: which MACs finished a TFTP download (the TFTP plugin's
 * `tftp.done` boot event) and when. Bounded: the oldest entries go first.
 */
export class TftpDoneTracker {
  private readonly doneAt = new Map<string, number>();
  private readonly macByIp = new Map<string, string>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 65536,
  ) {}

  /** Remember which MAC holds an address (from the client's own requests). */
  learnAddress(address: string, mac: string): void {
    this.macByIp.delete(address);
    this.macByIp.set(address, mac);
    if (this.macByIp.size > this.max) this.macByIp.delete(this.macByIp.keys().next().value as string);
  }

  /** A tftp.done event; returns the MAC it was attributed to. */
  markDone(at: number, mac?: string, address?: string): string | undefined {
    const who = mac?.toLowerCase() ?? (address ? this.macByIp.get(address) : undefined);
    if (!who) return undefined;
    this.doneAt.delete(who);
    this.doneAt.set(who, at);
    if (this.doneAt.size > this.max) this.doneAt.delete(this.doneAt.keys().next().value as string);
    return who;
  }

  /** Did this MAC finish a TFTP download within the window before `now`? */
  downloaded(mac: string, now: number): boolean {
    const at = this.doneAt.get(mac.toLowerCase());
    return at !== undefined && now - at <= this.windowMs;
  }
}
