/**
 * Labels: `key → value` strings on a machine (rack, role, hostname …). Keys are restricted at write;
 * values may hold any printable text (they are made inert whenever a script uses them), but never a
 * line break or other control character.
 */
export const LABEL_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$';
const KEY_RE = new RegExp(LABEL_KEY_PATTERN);
export const LABEL_VALUE_MAX = 256;

export function labelProblems(labels: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!KEY_RE.test(k)) problems.push(`label key ${JSON.stringify(k)} must match ${LABEL_KEY_PATTERN}`);
    if (v === null) continue;
    if (typeof v !== 'string') problems.push(`label "${k}": value must be a string`);
    else if (v.length > LABEL_VALUE_MAX) problems.push(`label "${k}": value longer than ${LABEL_VALUE_MAX} characters`);
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(v)) problems.push(`label "${k}": value contains a line break or control character`);
  }
  return problems;
}
