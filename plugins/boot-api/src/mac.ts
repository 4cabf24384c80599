/**
 * MAC addresses as machines and people write them: `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`
 * (iPXE's `${mac:hexhyp}`), `aabb.ccdd.eeff` or 12 bare hex digits. The canonical form is lower-case
 * colon-separated (the nodeStore key).
 */
const PATTERNS = [/^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i, /^([0-9a-f]{2})([0-9a-f]{2})\.?([0-9a-f]{2})([0-9a-f]{2})\.?([0-9a-f]{2})([0-9a-f]{2})$/i];

const CANONICAL = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const HYPHENS = /^[0-9a-f]{2}(?:-[0-9a-f]{2}){5}$/;

export function normaliseMac(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 17) return undefined;
  if (CANONICAL.test(input)) return input; // the common case (iPXE ${mac}, stored keys): nothing to do
  if (HYPHENS.test(input)) return input.replace(/-/g, ':'); // iPXE ${mac:hexhyp}, the boot URL's form
  for (const re of PATTERNS) {
    const m = re.exec(input);
    if (m) {
      // One separator style only (aa:bb-cc… is a typo, not a MAC).
      if (/[:-]/.test(input) && new Set(input.replace(/[0-9a-f]/gi, '')).size !== 1) return undefined;
      return m.slice(1, 7).join(':').toLowerCase();
    }
  }
  return undefined;
}

/** `aa:bb:cc:dd:ee:ff` → `aa-bb-cc-dd-ee-ff` (URL paths, file names). */
export function hyphenMac(mac: string): string {
  return mac.replace(/:/g, '-');
}
