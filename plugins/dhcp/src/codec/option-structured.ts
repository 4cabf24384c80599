import { DhcpCodecError, DhcpErrorCodes } from './errors';
import { badValue, ipFromBuffer, ipToBuffer, toBytes, type OptionType } from './option-types';

/**
 * Option value codecs with inner structure: sub-options (43, 82, 175), user class (77), client
 * identifier (61), FQDN (81), PXE client NDI (94) and UUID (97), classless routes (121).
 */

function badOption(code: number, what: string): DhcpCodecError {
  return new DhcpCodecError(DhcpErrorCodes.BAD_OPTION, `option ${code}: ${what}`, { option: code });
}

/** One encapsulated sub-option: code and payload as lower-case hex. */
export interface SubOption {
  code: number;
  data: string;
}

/** Split a TLV buffer (1-byte code, 1-byte length; 0 = pad and 255 = end only when `padEnd`). */
export function decodeSubOptions(buf: Buffer, code: number, padEnd = true): SubOption[] {
  const out: SubOption[] = [];
  let i = 0;
  while (i < buf.length) {
    const sub = buf[i];
    if (padEnd && sub === 0) {
      i++;
      continue;
    }
    if (padEnd && sub === 255) break;
    if (i + 1 >= buf.length) throw badOption(code, `sub-option ${sub} has no length byte`);
    const len = buf[i + 1];
    if (i + 2 + len > buf.length) throw badOption(code, `sub-option ${sub} runs past the end of the option`);
    out.push({ code: sub, data: buf.toString('hex', i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}

export function encodeSubOptions(v: unknown, code: number | string, withEnd = false): Buffer {
  if (!Array.isArray(v)) throw badValue(code, 'expected a list of {code, data} sub-options');
  const parts: Buffer[] = [];
  for (const s of v as unknown[]) {
    const so = s as { code?: unknown; data?: unknown };
    if (typeof so !== 'object' || so === null || typeof so.code !== 'number' || !Number.isInteger(so.code) || so.code < 0 || so.code > 255) throw badValue(code, 'sub-option code must be 0..255');
    const data = toBytes(so.data, code);
    if (data.length > 255) throw badValue(code, `sub-option ${so.code} is longer than 255 bytes`);
    parts.push(Buffer.from([so.code, data.length]), data);
  }
  if (withEnd) parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

/** Generic encapsulated options (43 vendor-specific, 175 iPXE). */
export const subOptions: OptionType<SubOption[]> = {
  name: 'subOptions',
  decode: (buf, code) => decodeSubOptions(buf, code, true),
  encode: (v, code) => encodeSubOptions(v, code, false),
};

/** Relay agent information, RFC 3046 (sub-option codes are not pad/end there). */
export const relayAgentInfo: OptionType<SubOption[]> = {
  name: 'relayAgentInfo',
  decode(buf, code) {
    if (buf.length === 0) throw badOption(code, 'empty relay agent information');
    return decodeSubOptions(buf, code, false);
  },
  encode: (v, code) => encodeSubOptions(v, code, false),
};

/**
 * User class (77). RFC 3004 encodes a list of length-prefixed class data; iPXE and many PXE ROMs
 * send one raw string ("iPXE"). Decoding yields the RFC 3004 list when the bytes parse as one,
 * else a one-element list with the raw string. Encoding: a string is sent raw, a list as RFC 3004.
 */
export const userClass: OptionType<string[]> = {
  name: 'userClass',
  decode(buf, code) {
    if (buf.length === 0) throw badOption(code, 'empty user class');
    const items: string[] = [];
    let i = 0;
    let ok = true;
    while (i < buf.length) {
      const len = buf[i];
      if (len === 0 || i + 1 + len > buf.length) {
        ok = false;
        break;
      }
      items.push(buf.toString('latin1', i + 1, i + 1 + len));
      i += 1 + len;
    }
    return ok ? items : [buf.toString('latin1')];
  },
  encode(v, code) {
    if (typeof v === 'string') {
      if (v.length === 0) throw badValue(code, 'empty user class');
      return Buffer.from(v, 'latin1');
    }
    if (!Array.isArray(v) || v.length === 0) throw badValue(code, 'expected a string (raw) or a list of strings (RFC 3004)');
    return Buffer.concat(
      v.map((s: unknown) => {
        if (typeof s !== 'string' || s.length === 0 || s.length > 255) throw badValue(code, 'user class entries must be strings of 1..255 bytes');
        return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
      }),
    );
  },
};

/** Client identifier (61): type byte + identifier, as one lower-case hex string (type first). */
export const clientId: OptionType<string> = {
  name: 'clientId',
  decode(buf, code) {
    if (buf.length < 2) throw badOption(code, 'client identifier must be at least 2 bytes (RFC 2132 §9.14)');
    return buf.toString('hex');
  },
  encode(v, code) {
    const b = toBytes(v, code);
    if (b.length < 2) throw badValue(code, 'client identifier must be at least 2 bytes');
    return b;
  },
};

export interface ClientFqdn {
  /** Flags byte (S=1, O=2, E=4, N=8). */
  flags: number;
  rcode1: number;
  rcode2: number;
  /** Domain name as text (dotted), decoded from DNS wire format when the E flag is set. */
  name: string;
}

function decodeDnsName(buf: Buffer, code: number): string {
  const labels: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return labels.join('.');
    if (len > 63 || i + 1 + len > buf.length) throw badOption(code, 'bad DNS wire-format name');
    labels.push(buf.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  // A partial name (no root label), RFC 4702 §2.3.1.
  return labels.join('.');
}

function encodeDnsName(name: string, code: number | string, fullyQualified: boolean): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const l of labels) {
    if (l.length > 63) throw badValue(code, `DNS label longer than 63 bytes: ${l}`);
    parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  }
  if (fullyQualified) parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Client FQDN (81), RFC 4702. */
export const clientFqdn: OptionType<ClientFqdn> = {
  name: 'clientFqdn',
  decode(buf, code) {
    if (buf.length < 3) throw badOption(code, 'FQDN option shorter than 3 bytes');
    const flags = buf[0];
    const rest = buf.subarray(3);
    const name = flags & 4 ? decodeDnsName(rest, code) : rest.toString('latin1');
    return { flags, rcode1: buf[1], rcode2: buf[2], name };
  },
  encode(v, code) {
    const f = v as Partial<ClientFqdn>;
    if (typeof f !== 'object' || f === null || typeof f.name !== 'string') throw badValue(code, 'expected {flags, rcode1, rcode2, name}');
    const flags = Number(f.flags ?? 0) & 0xff;
    const name = flags & 4 ? encodeDnsName(f.name, code, true) : Buffer.from(f.name, 'latin1');
    return Buffer.concat([Buffer.from([flags, Number(f.rcode1 ?? 0) & 0xff, Number(f.rcode2 ?? 0) & 0xff]), name]);
  },
};

export interface ClientNdi {
  type: number;
  major: number;
  minor: number;
}

/** PXE client network device interface (94), RFC 4578 §2.2: type 1 = UNDI, major, minor. */
export const clientNdi: OptionType<ClientNdi> = {
  name: 'clientNdi',
  decode(buf, code) {
    if (buf.length !== 3) throw badOption(code, `expected 3 bytes, got ${buf.length}`);
    return { type: buf[0], major: buf[1], minor: buf[2] };
  },
  encode(v, code) {
    const n = v as Partial<ClientNdi>;
    const ok = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255;
    if (typeof n !== 'object' || n === null || !ok(n.type) || !ok(n.major) || !ok(n.minor)) throw badValue(code, 'expected {type, major, minor} bytes');
    return Buffer.from([n.type, n.major, n.minor]);
  },
};

/** PXE client machine identifier (97), RFC 4578 §2.3: type 0 + 16-byte GUID, as hex (type included). */
export const clientUuid: OptionType<string> = {
  name: 'clientUuid',
  decode(buf, code) {
    if (buf.length !== 17) throw badOption(code, `expected 17 bytes (type + GUID), got ${buf.length}`);
    return buf.toString('hex');
  },
  encode(v, code) {
    const b = toBytes(v, code);
    if (b.length !== 17) throw badValue(code, 'expected 17 bytes (type 0 + 16-byte GUID)');
    return b;
  },
};

export interface ClasslessRoute {
  /** Destination as CIDR, e.g. "10.0.0.0/8". */
  destination: string;
  router: string;
}

/** Classless static routes (121), RFC 3442. */
export const classlessRoutes: OptionType<ClasslessRoute[]> = {
  name: 'classlessRoutes',
  decode(buf, code) {
    if (buf.length === 0) throw badOption(code, 'empty route list');
    const out: ClasslessRoute[] = [];
    let i = 0;
    while (i < buf.length) {
      const width = buf[i];
      if (width > 32) throw badOption(code, `prefix length ${width} > 32`);
      const sig = Math.ceil(width / 8);
      if (i + 1 + sig + 4 > buf.length) throw badOption(code, 'route runs past the end');
      const dest = Buffer.alloc(4);
      buf.copy(dest, 0, i + 1, i + 1 + sig);
      out.push({ destination: `${ipFromBuffer(dest, 0)}/${width}`, router: ipFromBuffer(buf, i + 1 + sig) });
      i += 1 + sig + 4;
    }
    return out;
  },
  encode(v, code) {
    if (!Array.isArray(v) || v.length === 0) throw badValue(code, 'expected a list of {destination, router}');
    return Buffer.concat(
      v.map((r: unknown) => {
        const route = r as Partial<ClasslessRoute>;
        const m = typeof route?.destination === 'string' ? /^(.+)\/(\d{1,2})$/.exec(route.destination) : null;
        if (!m || Number(m[2]) > 32) throw badValue(code, 'destination must be CIDR a.b.c.d/n');
        const width = Number(m[2]);
        const dest = ipToBuffer(m[1], code).subarray(0, Math.ceil(width / 8));
        return Buffer.concat([Buffer.from([width]), dest, ipToBuffer(route.router, code)]);
      }),
    );
  },
};
