import type { Lease, NodeRecord, StoredBootEvent } from '@pureboot/core';
import { EventLog, type EventChange } from './event-log';
import { LeaseTable, type LeaseChange } from './lease-table';
import { NodeTable, type NodeChange } from './node-table';

export type Change = LeaseChange | NodeChange | EventChange;

/** A change as it is persisted (no before-images): what a journal record holds. */
export type Redo = { k: 'lease'; v: Lease } | { k: 'node'; mac: string; v?: NodeRecord } | { k: 'event'; v: StoredBootEvent };

/** The whole state, for snapshots. */
export interface EngineSnapshot {
  leases: Lease[];
  nodes: NodeRecord[];
  events: StoredBootEvent[];
  lastSeq: number;
}

export interface EngineOptions {
  /** Transitions kept per machine (oldest dropped first). */
  historyRetention: number;
  /** Boot events kept per machine (oldest dropped first). */
  bootEventRetention: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { historyRetention: 100, bootEventRetention: 200 };

/**
 * The in-process storage engine: lease, machine and boot-event tables with synchronous operations.
 * storage-memory serves it directly; storage-file journals the changes each operation reports
 * (`run`) and rolls them back (`undo`) when the journal write fails.
 */
export class StoreEngine {
  readonly leases: LeaseTable;
  readonly nodes: NodeTable;
  readonly events: EventLog;
  private collecting: Change[] | null = null;

  constructor(readonly options: EngineOptions = DEFAULT_ENGINE_OPTIONS) {
    // Outside run() (replay, restore) nothing can undo a change: released at once.
    const sink = (c: Change) => (this.collecting ? this.collecting.push(c) : this.release([c]));
    this.leases = new LeaseTable(sink);
    this.nodes = new NodeTable(sink, options.historyRetention);
    this.events = new EventLog(sink, options.bootEventRetention);
  }

  /** Run one operation and return its result with the changes it made. Undone if it throws. */
  run<T>(fn: () => T): { value: T; changes: Change[] } {
    if (this.collecting) throw new Error('StoreEngine.run is not re-entrant');
    const changes: Change[] = [];
    this.collecting = changes;
    try {
      const value = fn();
      return { value, changes };
    } catch (err) {
      this.collecting = null;
      this.undo(changes);
      throw err;
    } finally {
      this.collecting = null;
    }
  }

  /**
   * The changes are final (durable, or no backend persists them): what they hold for undo is let go
   * (chunks the boot timelines dropped go back to their pool). Never call it for undone changes.
   */
  release(changes: Change[]): void {
    for (const c of changes) if (c.k === 'event') this.events.release(c);
  }

  /** Roll back changes (any number of operations' worth, newest last) in reverse order. */
  undo(changes: Change[]): void {
    for (let i = changes.length - 1; i >= 0; i--) {
      const c = changes[i];
      if (c.k === 'lease') this.leases.undo(c);
      else if (c.k === 'node') this.nodes.undo(c);
      else this.events.undo(c);
    }
  }

  static redo(changes: Change[]): Redo[] {
    return changes.map((c): Redo => (c.k === 'lease' ? { k: 'lease', v: c.after } : c.k === 'node' ? (c.after ? { k: 'node', mac: c.mac, v: c.after } : { k: 'node', mac: c.mac }) : { k: 'event', v: c.ev }));
  }

  /** Re-apply persisted changes (journal replay). */
  apply(redo: Redo[]): void {
    for (const r of redo) {
      if (r.k === 'lease') this.leases.put(r.v);
      else if (r.k === 'node') this.nodes.put(r.mac, r.v);
      else this.events.put(r.v);
    }
  }

  snapshot(): EngineSnapshot {
    return { leases: [...this.leases.all()], nodes: [...this.nodes.all()], events: this.events.all(), lastSeq: this.events.lastSeq };
  }

  restore(s: EngineSnapshot): void {
    for (const l of s.leases) this.leases.put(l);
    for (const n of s.nodes) this.nodes.put(n.mac, n);
    for (const e of s.events) this.events.put(e);
    this.events.raiseSeq(s.lastSeq);
  }
}
