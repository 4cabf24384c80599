/**
 * MAC addresses as machines and people write them: `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`
 * (iPXE's `${mac:hexhyp}`), `aabb.ccdd.eeff` or 12 bare hex digits. The canonical form is lower-case
 * colon-separated (the nodeStore key).
 */
/** Bare digits, or Cisco's dotted groups (each of the two dots optional). */
const UNSEPARATED = /^([0-9a-f]{2})([0-9a-f]{2})\.?([0-9a-f]{2})([0-9a-f]{2})\.?([0-9a-f]{2})([0-9a-f]{2})$/i;

const COLON = 58;
const HYPHEN = 45;

/** Character class by code: 1 a digit or a–f, 2 A–F, 0 anything else (codes ≥ 128 read as undefined). */
const HEX_CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) HEX_CLASS[c] = 1;
for (let c = 97; c <= 102; c++) HEX_CLASS[c] = 1;
for (let c = 65; c <= 70; c++) HEX_CLASS[c] = 2;

/** A hex digit's class by character code: 1 lower-case or a digit, 2 upper-case, 0 (or undefined) not hex. */
export const hexClass = (code: number): number => HEX_CLASS[code];

export function normaliseMac(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 17) return undefined;
  if (input.length === 17) return separatedMac(input);
  const m = UNSEPARATED.exec(input);
  return m ? m.slice(1, 7).join(':').toLowerCase() : undefined;
}

/**
 * The 17-character forms, `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff` in either case, with one
 * separator style (aa:bb-cc… is a typo, not a MAC). Every boot request goes through here, so it reads
 * character codes instead of running regular expressions: the canonical form is returned as it is,
 * iPXE's `${mac:hexhyp}` (the boot URL's form) is rebuilt from its groups.
 */
function separatedMac(s: string): string | undefined {
  const sep = s.charCodeAt(2);
  if ((sep !== COLON && sep !== HYPHEN) || s.charCodeAt(5) !== sep || s.charCodeAt(8) !== sep || s.charCodeAt(11) !== sep || s.charCodeAt(14) !== sep) return undefined;
  let seen = 0;
  for (let i = 0; i < 17; i += 3) {
    const a = HEX_CLASS[s.charCodeAt(i)];
    const b = HEX_CLASS[s.charCodeAt(i + 1)];
    if (!a || !b) return undefined;
    seen |= a | b;
  }
  if (sep === COLON && seen === 1) return s;
  const colon = `${s.slice(0, 2)}:${s.slice(3, 5)}:${s.slice(6, 8)}:${s.slice(9, 11)}:${s.slice(12, 14)}:${s.slice(15, 17)}`;
  return seen === 1 ? colon : colon.toLowerCase();
}

/** `aa:bb:cc:dd:ee:ff` → `aa-bb-cc-dd-ee-ff` (URL paths, file names). */
export function hyphenMac(mac: string): string {
  return mac.replace(/:/g, '-');
}
