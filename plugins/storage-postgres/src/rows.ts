import type { Lease, LeaseState, NodeRecord, NodeState, NodeTransition, StoredBootEvent } from '@pureboot/core';

export interface LeaseRow {
  address: number;
  subnet_id: string;
  client_id: string;
  mac: string;
  hostname: string | null;
  state: string;
  expires_at: number;
  updated_at: number;
}

export function toLease(r: LeaseRow): Lease {
  const l: Lease = {
    address: Number(r.address),
    subnetId: r.subnet_id,
    clientId: r.client_id,
    mac: r.mac,
    state: r.state as LeaseState,
    expiresAt: Number(r.expires_at),
    updatedAt: Number(r.updated_at),
  };
  if (r.hostname !== null && r.hostname !== undefined) l.hostname = r.hostname;
  return l;
}

export interface NodeRow {
  mac: string;
  state: string;
  version: number;
  arch: string | null;
  labels: Record<string, string>;
  profile: string | null;
  attributes: Record<string, unknown>;
  first_seen: number;
  last_seen: number;
  state_since: number;
  history: NodeTransition[];
}

export function toNode(r: NodeRow): NodeRecord {
  const n: NodeRecord = {
    mac: r.mac,
    state: r.state as NodeState,
    version: Number(r.version),
    labels: r.labels ?? {},
    attributes: r.attributes ?? {},
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    stateSince: Number(r.state_since),
    history: (r.history ?? []).map((t) => {
      const x: NodeTransition = { from: t.from ?? null, to: t.to, at: Number(t.at), reason: t.reason };
      if (t.actor !== undefined && t.actor !== null) x.actor = t.actor;
      return x;
    }),
  };
  if (r.arch !== null && r.arch !== undefined) n.arch = r.arch;
  if (r.profile !== null && r.profile !== undefined) n.profile = r.profile;
  return n;
}

export interface EventRow {
  seq: number;
  mac: string;
  at: number;
  source: string;
  kind: string;
  detail: Record<string, unknown>;
}

export function toEvent(r: EventRow): StoredBootEvent {
  return { seq: Number(r.seq), mac: r.mac, at: Number(r.at), source: r.source, kind: r.kind, detail: r.detail ?? {} };
}
