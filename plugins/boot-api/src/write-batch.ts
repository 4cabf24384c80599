/**
 * Boot responses are written together at the end of the event-loop turn (in setImmediate's phase,
 * after every ready socket was read and its request handled) instead of one at a time as each
 * request finishes. Under load the writes to different connections then go out back to back: the
 * clients' side is woken once for the batch rather than once per response, and sends its next
 * requests together. On the 2-core VM this is measured on, waking an idle CPU is most of the cost of
 * a small write: bench:http's /boot/MAC went from 17–23k to 28–33k requests/s (wrk, 32 connections).
 * A lone request waits for nothing but the end of its own turn.
 */
export class WriteBatch {
  private queue: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Run `write` at the end of this event-loop turn, after the writes deferred before it. */
  defer(write: () => void): void {
    this.queue.push(write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    const q = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const write of q) {
      try {
        write();
      } catch (err) {
        this.onError(err);
      }
    }
  };
}
