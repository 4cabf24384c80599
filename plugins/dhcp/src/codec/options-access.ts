import { Opt } from './constants';
import { DhcpCodecError, DhcpErrorCodes } from './errors';
import { badValue } from './option-types';
import { optionDef } from './option-registry';
import type { DhcpPacket } from './packet';

function def(key: number | string) {
  const d = optionDef(key);
  if (!d || d.code === Opt.OVERLOAD) throw new DhcpCodecError(DhcpErrorCodes.BAD_VALUE, `unknown DHCP option ${String(key)}`, { option: key });
  return d;
}

/**
 * Read an option by code or registry name, decoded by its type (raw hex for unknown codes).
 * Returns undefined when absent; a malformed payload raises DhcpCodecError(PB_ERR_DHCP_BAD_OPTION).
 */
export function getOption<T = unknown>(p: DhcpPacket, key: number | string): T | undefined {
  const d = def(key);
  const raw = p.options.get(d.code);
  if (raw === undefined) return undefined;
  return d.type.decode(raw, d.code) as T;
}

/** Set (encode) an option by code or registry name. `undefined` removes it. */
export function setOption(p: DhcpPacket, key: number | string, value: unknown): void {
  const d = def(key);
  if (value === undefined) {
    p.options.delete(d.code);
    return;
  }
  p.options.set(d.code, d.type.encode(value, d.code));
}

/** Encode a record of option values (keys: registry names or codes) into raw payloads. */
export function encodeOptionValues(values: Record<string, unknown>): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const d = optionDef(key);
    if (!d || d.code === Opt.OVERLOAD) throw badValue(key, `unknown DHCP option ${key}`);
    out.set(d.code, d.type.encode(value, d.code));
  }
  return out;
}

/** Decode every option of a packet into a record by registry name (for logs, explain, hooks). Malformed ones become hex under `<name>Raw`. */
export function decodeOptions(p: DhcpPacket): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [code, raw] of p.options) {
    const d = def(code);
    try {
      out[d.name] = d.type.decode(raw, code);
    } catch {
      out[`${d.name}Raw`] = raw.toString('hex');
    }
  }
  return out;
}

/** Option 53 as a number, or undefined for plain BOOTP. Raises PB_ERR_DHCP_BAD_OPTION when malformed. */
export function messageTypeOf(p: DhcpPacket): number | undefined {
  return getOption<number>(p, Opt.MESSAGE_TYPE);
}

/** Client identity per RFC 2131 §4.2: hex of option 61 when present, else the hardware type byte + chaddr. */
export function clientIdOf(p: DhcpPacket): string {
  const cid = p.options.get(Opt.CLIENT_ID);
  if (cid && cid.length >= 2) return cid.toString('hex');
  return p.htype.toString(16).padStart(2, '0') + p.chaddr.replace(/:/g, '');
}

/**
 * Order reply options: message type and server id first, then the client's parameter request list
 * order (option 55), then the rest in insertion order. With `onlyRequested`, options neither in the
 * PRL nor in `always` are left out (RFC 2131 §4.3.1: send what the client asked for).
 */
const ALWAYS: readonly number[] = [Opt.MESSAGE_TYPE, Opt.SERVER_ID, Opt.LEASE_TIME, Opt.RENEWAL_TIME, Opt.REBINDING_TIME, Opt.MESSAGE, Opt.RELAY_AGENT];
const ALWAYS_SET: ReadonlySet<number> = new Set(ALWAYS);

export function orderReplyOptions(options: Map<number, Buffer>, prl: number[] | undefined, opts: { always?: number[]; onlyRequested?: boolean } = {}): Map<number, Buffer> {
  const always = opts.always?.length ? new Set([...ALWAYS, ...opts.always]) : ALWAYS_SET;
  const out = new Map<number, Buffer>();
  const type = options.get(Opt.MESSAGE_TYPE);
  if (type) out.set(Opt.MESSAGE_TYPE, type);
  const sid = options.get(Opt.SERVER_ID);
  if (sid) out.set(Opt.SERVER_ID, sid);
  for (const code of prl ?? []) {
    const v = options.get(code);
    if (v && !out.has(code)) out.set(code, v);
  }
  for (const [code, v] of options) {
    if (out.has(code)) continue;
    if (opts.onlyRequested && prl && !always.has(code)) continue;
    out.set(code, v);
  }
  // Relay agent information goes last (RFC 3046 §2.1).
  const rai = out.get(Opt.RELAY_AGENT);
  if (rai) {
    out.delete(Opt.RELAY_AGENT);
    out.set(Opt.RELAY_AGENT, rai);
  }
  return out;
}
