/**
 * `net.isIPv4` without its regular expression: four dot-separated decimal parts 0–255, no leading
 * zeros (`010.1.1.1` is not an address, as for node). The boot API checks a client address or two on
 * every script request.
 */
export function isIPv4(s: string): boolean {
  const n = typeof s === 'string' ? s.length : 0;
  if (n < 7 || n > 15) return false;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let lead = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) lead = c;
      else if (lead === 48) return false;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}
