import type { PurebootProcess } from './pureboot';

/** One entry of GET /api/v1/nodes/:mac/timeline. */
export interface TimelineEvent {
  seq: number;
  at: number;
  source: string;
  kind: string;
  detail: Record<string, unknown>;
}

/**
 * Follows a machine's boot timeline through the boot API (polling with `?after=`), keeps every event
 * and tells a listener about each new one as it arrives.
 */
export class TimelineFollower {
  readonly events: TimelineEvent[] = [];
  private lastSeq = 0;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  lastError?: string;

  constructor(
    private readonly pureboot: PurebootProcess,
    readonly mac: string,
    private readonly onEvent?: (e: TimelineEvent) => void,
  ) {}

  async poll(): Promise<void> {
    if (!this.pureboot.running()) return;
    const q = this.lastSeq > 0 ? `?after=${this.lastSeq}` : '';
    const r = await this.pureboot.request<{ events?: TimelineEvent[] }>('GET', `/api/v1/nodes/${this.mac}/timeline${q}`).catch((err: Error) => {
      this.lastError = err.message;
      return undefined;
    });
    if (!r) return;
    if (r.status !== 200) {
      this.lastError = `HTTP ${r.status}: ${r.text}`;
      return;
    }
    for (const e of r.body.events ?? []) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      this.events.push(e);
      this.onEvent?.(e);
    }
  }

  start(intervalMs = 1000): void {
    const tick = () => {
      this.polling = this.poll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.polling?.catch(() => undefined);
    await this.poll().catch(() => undefined);
  }

  find(kind: string, pred: (e: TimelineEvent) => boolean = () => true): TimelineEvent | undefined {
    return this.events.find((e) => e.kind === kind && pred(e));
  }

  filter(kind: string | RegExp): TimelineEvent[] {
    return this.events.filter((e) => (typeof kind === 'string' ? e.kind === kind : kind.test(e.kind)));
  }

  /** Wait (polling) until an event matching `pred` is in the timeline. */
  async waitFor(what: string, pred: (e: TimelineEvent) => boolean, timeoutMs: number): Promise<TimelineEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for timeline event: ${what}${this.lastError ? ` (last poll error: ${this.lastError})` : ''}`);
      await this.poll();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** One line per event for humans (demo, failure reports). */
export function describeEvent(e: TimelineEvent, t0: number): string {
  const t = `+${((e.at - t0) / 1000).toFixed(1).padStart(5)}s`;
  const d = e.detail ?? {};
  const s = (k: string) => (d[k] === undefined || d[k] === null ? undefined : String(d[k]));
  let what: string;
  switch (true) {
    case /^(dhcp|proxy)\./.test(e.kind):
      what = [
        s('address') && `${s('address')}`,
        (s('archName') ?? s('arch')) && `arch ${s('archName') ?? s('arch')}`,
        d.ipxe || d.isIpxe ? 'iPXE' : undefined,
        s('bootFile') && `boot file ${s('bootFile')}`,
        s('nextServer') && `next-server ${s('nextServer')}`,
      ]
        .filter(Boolean)
        .join(', ');
      break;
    case /^tftp\./.test(e.kind):
      what = [s('path') ?? s('file'), s('bytes') && `${s('bytes')} bytes`, s('durationMs') && `${s('durationMs')} ms`, s('blksize') && `blksize ${s('blksize')}`, s('reason') && `failed: ${s('reason')}`].filter(Boolean).join(', ');
      break;
    case e.kind === 'lifecycle.transition':
      what = `${s('from') ?? 'new'} → ${s('to')} (${s('reason') ?? ''})`;
      break;
    default:
      what = Object.entries(d)
        .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
  }
  return `${t}  ${e.kind.padEnd(20)} ${what}`;
}
