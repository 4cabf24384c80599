import fs from 'node:fs';
import type { EngineSnapshot } from '@pureboot/plugin-storage-memory';
import { encodeRecord, scanRecords, SNAPSHOT_MAGIC } from './record-format';

/**
 * Snapshot files: the magic, a head record `{gen, lastSeq}`, chunk records of at most CHUNK leases,
 * machines or boot events each, and an end record `{end: true, chunks}`. Chunks keep every JSON string
 * small (no V8 string-length limit however large the state) and let the writer yield between them.
 */
const CHUNK = 5000;

type SnapshotRecord = { gen: number; lastSeq: number } | { leases: EngineSnapshot['leases'] } | { nodes: EngineSnapshot['nodes'] } | { events: EngineSnapshot['events'] } | { end: true; chunks: number };

function record(v: SnapshotRecord): Buffer {
  return encodeRecord(Buffer.from(JSON.stringify(v), 'utf8'));
}

/**
 * Write `state` (arrays of immutable records, taken synchronously by the caller) to `file` and fsync
 * it. Returns the bytes written.
 */
export async function writeSnapshot(file: string, gen: number, state: EngineSnapshot): Promise<number> {
  const h = await fs.promises.open(file, 'w');
  let bytes = 0;
  const put = async (b: Buffer) => {
    await h.write(b, 0, b.length, bytes);
    bytes += b.length;
  };
  try {
    await put(SNAPSHOT_MAGIC);
    await put(record({ gen, lastSeq: state.lastSeq }));
    let chunks = 0;
    for (const [key, list] of [['leases', state.leases], ['nodes', state.nodes], ['events', state.events]] as const) {
      for (let i = 0; i < list.length; i += CHUNK) {
        await put(record({ [key]: list.slice(i, i + CHUNK) } as SnapshotRecord));
        chunks++;
      }
    }
    await put(record({ end: true, chunks }));
    await h.sync();
  } finally {
    await h.close();
  }
  return bytes;
}

export type SnapshotRead = { ok: true; gen: number; state: EngineSnapshot } | { ok: false; offset: number; reason: string };

/** Parse a snapshot file; any damage (it is written whole and renamed into place) is an error. */
export function readSnapshot(buf: Buffer): SnapshotRead {
  const scan = scanRecords(buf, SNAPSHOT_MAGIC);
  if (!scan.ok) return scan;
  if (scan.torn) return { ok: false, offset: scan.torn.offset, reason: `snapshot is incomplete (${scan.torn.reason})` };
  const state: EngineSnapshot = { leases: [], nodes: [], events: [], lastSeq: 0 };
  let gen: number | undefined;
  let chunks = 0;
  for (const [i, r] of scan.records.entries()) {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(r.payload.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      return { ok: false, offset: r.offset, reason: `snapshot record is not JSON (${(err as Error).message})` };
    }
    if (i === 0) {
      if (typeof v.gen !== 'number' || typeof v.lastSeq !== 'number') return { ok: false, offset: r.offset, reason: 'snapshot head record missing' };
      gen = v.gen;
      state.lastSeq = v.lastSeq;
    } else if (v.end === true) {
      if (v.chunks !== chunks || i !== scan.records.length - 1) return { ok: false, offset: r.offset, reason: `snapshot end record says ${String(v.chunks)} chunks, found ${chunks}` };
      return { ok: true, gen: gen as number, state };
    } else if (Array.isArray(v.leases)) {
      for (const x of v.leases) state.leases.push(x);
      chunks++;
    } else if (Array.isArray(v.nodes)) {
      for (const x of v.nodes) state.nodes.push(x);
      chunks++;
    } else if (Array.isArray(v.events)) {
      for (const x of v.events) state.events.push(x);
      chunks++;
    } else {
      return { ok: false, offset: r.offset, reason: 'unknown snapshot record' };
    }
  }
  return { ok: false, offset: scan.validEnd, reason: 'snapshot has no end record' };
}
