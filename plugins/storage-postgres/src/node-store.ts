import { NODE_STATES, type Clock, type NodeCreate, type NodeCreateResult, type NodeListQuery, type NodePage, type NodePatch, type NodeRecord, type NodeStore, type NodeUpdateResult } from '@pureboot/core';
import { decodeCursor, encodeCursor, pageLimit } from './cursor';
import type { PgDatabase } from './db';
import { PgStoreError, StorageErrorCodes } from './errors';
import { toNode, type NodeRow } from './rows';

const COLS = 'mac, state, version, arch, labels, profile, attributes, first_seen, last_seen, state_since, history';

function checkState(state: unknown): void {
  if (!(NODE_STATES as readonly unknown[]).includes(state)) throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `unknown node state "${String(state)}" (one of ${NODE_STATES.join(', ')})`);
}

export interface PgNodeStoreDeps {
  db: PgDatabase;
  schema: string;
  ready: () => Promise<void>;
  clock: () => Clock;
  historyLimit: number;
}

/** NodeStore on PostgreSQL: updates are one UPDATE … WHERE version = expected (compare-and-set). */
export class PgNodeStore implements NodeStore {
  private readonly s: string;
  constructor(private readonly deps: PgNodeStoreDeps) {
    this.s = deps.schema;
  }

  private async q(text: string, values: unknown[]): Promise<NodeRow[]> {
    await this.deps.ready();
    return (await this.deps.db.query<NodeRow & Record<string, unknown>>(text, values)).rows;
  }

  async get(mac: string): Promise<NodeRecord | undefined> {
    const rows = await this.q(`SELECT ${COLS} FROM ${this.s}.nodes WHERE mac = $1`, [mac.toLowerCase()]);
    return rows[0] ? toNode(rows[0]) : undefined;
  }

  async create(node: NodeCreate): Promise<NodeCreateResult> {
    checkState(node.state);
    const mac = node.mac.toLowerCase();
    const history = [{ from: null, to: node.state, at: node.now, reason: node.reason ?? 'created' }];
    const rows = await this.q(
      `WITH ins AS (
         INSERT INTO ${this.s}.nodes (mac, state, version, arch, labels, profile, attributes, first_seen, last_seen, state_since, history)
         VALUES ($1, $2, 1, $3, $4::jsonb, $5, $6::jsonb, $7, $7, $7, $8::jsonb)
         ON CONFLICT (mac) DO NOTHING
         RETURNING ${COLS}, true AS created)
       SELECT * FROM ins
       UNION ALL
       SELECT ${COLS}, false AS created FROM ${this.s}.nodes WHERE mac = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [mac, node.state, node.arch ?? null, JSON.stringify(node.labels ?? {}), node.profile ?? null, JSON.stringify(node.attributes ?? {}), node.now, JSON.stringify(history)],
    );
    const row = rows[0] as (NodeRow & { created: boolean }) | undefined;
    if (!row) {
      // inserted and deleted by someone else between the two parts: report the race as a conflict-free retry
      return this.create(node);
    }
    return row.created ? { ok: true, node: toNode(row) } : { ok: false, reason: 'exists', current: toNode(row) };
  }

  async update(mac: string, expectedVersion: number, patch: NodePatch): Promise<NodeUpdateResult> {
    mac = mac.toLowerCase();
    if (patch.state !== undefined) checkState(patch.state);
    const t = patch.transition;
    if (patch.state !== undefined && t === undefined) {
      // A state change needs a transition. Checked against the expected version: if the record moved on
      // meanwhile, the CAS below fails anyway, so this extra read cannot let a bad change through.
      const cur = await this.get(mac);
      if (cur && cur.version === expectedVersion && cur.state !== patch.state) {
        throw new PgStoreError(StorageErrorCodes.BAD_REQUEST, `node ${mac}: a state change (${cur.state} → ${patch.state}) needs patch.transition (reason, at)`, { mac });
      }
    }
    const at = t?.at ?? patch.lastSeen ?? this.deps.clock().now();
    const rows = await this.q(
      `UPDATE ${this.s}.nodes n SET
         state = COALESCE($3::text, n.state),
         arch = COALESCE($4::text, n.arch),
         labels = COALESCE($5::jsonb, n.labels),
         profile = CASE WHEN $6::boolean THEN $7::text ELSE n.profile END,
         attributes = CASE WHEN $8::jsonb IS NULL THEN n.attributes ELSE
           (SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb) FROM jsonb_each(n.attributes || $8::jsonb) AS x(k, v) WHERE v <> 'null'::jsonb) END,
         last_seen = COALESCE($9::bigint, n.last_seen),
         state_since = CASE WHEN $3::text IS NOT NULL AND $3::text <> n.state THEN $10::bigint ELSE n.state_since END,
         history = CASE WHEN $3::text IS NOT NULL AND $3::text <> n.state THEN
           ${this.s}.pb_trim_history(n.history || jsonb_build_array(
             jsonb_build_object('from', n.state, 'to', $3::text, 'at', $10::bigint, 'reason', $11::text)
             || CASE WHEN $12::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('actor', $12::text) END), $13::integer)
           ELSE n.history END,
         version = n.version + 1
       WHERE n.mac = $1 AND n.version = $2
       RETURNING ${COLS.split(', ').map((c) => `n.${c}`).join(', ')}`,
      [
        mac,
        expectedVersion,
        patch.state ?? null,
        patch.arch ?? null,
        patch.labels === undefined ? null : JSON.stringify(patch.labels),
        patch.profile !== undefined,
        patch.profile ?? null,
        patch.attributes === undefined ? null : JSON.stringify(patch.attributes),
        patch.lastSeen ?? null,
        at,
        t?.reason ?? 'unspecified',
        t?.actor ?? null,
        this.deps.historyLimit,
      ],
    );
    if (rows[0]) return { ok: true, node: toNode(rows[0]) };
    const current = await this.get(mac);
    return current ? { ok: false, reason: 'version-conflict', current } : { ok: false, reason: 'not-found' };
  }

  async delete(mac: string): Promise<boolean> {
    await this.deps.ready();
    const r = await this.deps.db.query(`DELETE FROM ${this.s}.nodes WHERE mac = $1`, [mac.toLowerCase()]);
    return (r.rowCount ?? 0) > 0;
  }

  async list(query: NodeListQuery): Promise<NodePage> {
    const limit = pageLimit(query.limit);
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.state !== undefined) {
      checkState(query.state);
      where.push(`state = $${values.push(query.state)}`);
    }
    if (query.arch !== undefined) where.push(`arch = $${values.push(query.arch)}`);
    if (query.profile !== undefined) where.push(`profile = $${values.push(query.profile)}`);
    if (query.labels !== undefined && Object.keys(query.labels).length > 0) where.push(`labels @> $${values.push(JSON.stringify(query.labels))}::jsonb`);
    if (query.cursor !== undefined) where.push(`mac > $${values.push(decodeCursor<string>('node', query.cursor, 'string'))}`);
    const rows = await this.q(
      `SELECT ${COLS} FROM ${this.s}.nodes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY mac LIMIT $${values.push(limit + 1)}`,
      values,
    );
    const items = rows.slice(0, limit).map(toNode);
    return rows.length > limit ? { items, nextCursor: encodeCursor('node', items[items.length - 1].mac) } : { items };
  }
}
