/**
 * The `nodeStore` and `bootEvents` service contracts: machines by MAC with a lifecycle state, and an
 * append-only per-machine boot timeline. A storage plugin provides both.
 */

export const NODE_STATES = ['discovered', 'pending', 'installing', 'installed', 'active', 'failed', 'retired'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeTransition {
  from: NodeState | null;
  to: NodeState;
  at: number;
  reason: string;
  /** Who caused it: 'boot', 'api', 'callback', 'timeout', a plugin name … */
  actor?: string;
}

export interface NodeRecord {
  /** Lower-case colon MAC, the key. */
  mac: string;
  state: NodeState;
  /** Compare-and-set version; starts at 1 and grows by one on every update. */
  version: number;
  arch?: string;
  labels: Record<string, string>;
  profile?: string;
  attributes: Record<string, unknown>;
  firstSeen: number;
  lastSeen: number;
  stateSince: number;
  /** Transitions, oldest first (bounded by the backend's retention). */
  history: NodeTransition[];
}

export interface NodeCreate {
  mac: string;
  state: NodeState;
  arch?: string;
  labels?: Record<string, string>;
  profile?: string;
  attributes?: Record<string, unknown>;
  now: number;
  reason?: string;
}

export interface NodePatch {
  state?: NodeState;
  arch?: string;
  /** Replaces the label map when given. */
  labels?: Record<string, string>;
  /** `null` clears the profile. */
  profile?: string | null;
  /** Shallow-merged into attributes; a key set to `null` is removed. */
  attributes?: Record<string, unknown>;
  lastSeen?: number;
  /** Required when `state` changes: recorded in history. */
  transition?: { reason: string; actor?: string; at: number };
}

export type NodeUpdateResult =
  | { ok: true; node: NodeRecord }
  | { ok: false; reason: 'version-conflict'; current: NodeRecord }
  | { ok: false; reason: 'not-found' };

export type NodeCreateResult = { ok: true; node: NodeRecord } | { ok: false; reason: 'exists'; current: NodeRecord };

export interface NodeListQuery {
  state?: NodeState;
  arch?: string;
  /** Every given label must match exactly. */
  labels?: Record<string, string>;
  profile?: string;
  cursor?: string;
  limit?: number;
}

export interface NodePage {
  items: NodeRecord[];
  nextCursor?: string;
}

export interface NodeStore {
  get(mac: string): Promise<NodeRecord | undefined>;
  /**
   * The stored record itself, for read-only use: no copy is made (it may be shared and frozen, so it
   * must not be changed or kept across awaits that could see it replaced). Optional: the boot endpoint
   * reads every machine's record on every request and uses it when a backend has it.
   */
  peek?(mac: string): Promise<Readonly<NodeRecord> | undefined>;
  /** Create a machine; if it already exists the existing record is returned with ok=false. */
  create(node: NodeCreate): Promise<NodeCreateResult>;
  /** Compare-and-set: applies only when the stored version equals `expectedVersion`. */
  update(mac: string, expectedVersion: number, patch: NodePatch): Promise<NodeUpdateResult>;
  delete(mac: string): Promise<boolean>;
  list(query: NodeListQuery): Promise<NodePage>;
}

export interface StoredBootEvent {
  /** Monotonic per store. */
  seq: number;
  mac: string;
  at: number;
  source: string;
  kind: string;
  detail: Record<string, unknown>;
}

export interface BootEventLog {
  append(event: Omit<StoredBootEvent, 'seq'>): Promise<StoredBootEvent>;
  /**
   * Append several events at once, all or none (a bad event rejects the call and stores nothing), with
   * seqs growing in the given order. Optional: the boot timeline uses it to store the events of one
   * event-loop turn in one store operation (one journal record, one SQL statement) and falls back to
   * `append` per event for a backend without it.
   */
  appendMany?(events: ReadonlyArray<Omit<StoredBootEvent, 'seq'>>): Promise<StoredBootEvent[]>;
  /** Events of one machine, oldest first, after `afterSeq` when given. */
  list(mac: string, opts?: { afterSeq?: number; limit?: number }): Promise<StoredBootEvent[]>;
}

/**
 * What is wrong with an event given to `BootEventLog.append`/`appendMany`, or undefined when nothing
 * is: every backend refuses the same events with the same words (each in its own error type).
 */
export function bootEventProblem(e: Omit<StoredBootEvent, 'seq'> | null | undefined): string | undefined {
  if (!e || typeof e.mac !== 'string' || e.mac.length === 0) return 'boot event mac must be a non-empty string';
  if (typeof e.at !== 'number' || !Number.isFinite(e.at)) return 'boot event at must be an epoch-ms number';
  if (typeof e.kind !== 'string' || typeof e.source !== 'string') return 'boot event kind and source must be strings';
  if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail)) return 'boot event detail must be an object';
  return undefined;
}
