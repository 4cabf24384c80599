import fs from 'node:fs';
import path from 'node:path';

export interface GoldenPacket {
  name: string;
  /** Where the datagram came from (captured client, or constructed per a spec). */
  source: string;
  bytes: Buffer;
}

/** The golden datagrams of test/fixtures/packets.json (hex, one UDP payload each). */
export function goldenPackets(): GoldenPacket[] {
  const file = path.join(__dirname, '..', 'fixtures', 'packets.json');
  const list = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ name: string; source: string; hex: string }>;
  return list.map((g) => ({ name: g.name, source: g.source, bytes: Buffer.from(g.hex.replace(/\s+/g, ''), 'hex') }));
}

export function golden(name: string): Buffer {
  const g = goldenPackets().find((x) => x.name === name);
  if (!g) throw new Error(`no golden packet ${name}`);
  return g.bytes;
}
