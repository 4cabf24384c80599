/**
 * Environment overrides: `PUREBOOT_<KEY>__<KEY>…=value`. `__` separates path segments; each segment
 * is written in SCREAMING_SNAKE and becomes camelCase (`PUREBOOT_SERVER__LOG_LEVEL=debug` →
 * `server.logLevel`, `PUREBOOT_TFTP__MAX_BLKSIZE=1468` → `tftp.maxBlksize`). Values are parsed as JSON
 * when they parse (numbers, booleans, arrays), else taken as strings.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Array<{ path: string[]; value: unknown; variable: string }> {
  const out: Array<{ path: string[]; value: unknown; variable: string }> = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('PUREBOOT_') || raw === undefined) continue;
    const rest = name.slice('PUREBOOT_'.length);
    if (!rest || RESERVED.has(name)) continue;
    const segments = rest.split('__').filter(Boolean).map(toCamel);
    if (segments.length === 0) continue;
    out.push({ path: segments, value: parseValue(raw), variable: name });
  }
  return out.sort((a, b) => a.variable.localeCompare(b.variable));
}

/** Variables that steer tests and tools, not the config. */
const RESERVED = new Set(['PUREBOOT_REQUIRE_ALL', 'PUREBOOT_USE_DIST', 'PUREBOOT_ARTIFACTS', 'PUREBOOT_CONFIG']);

function toCamel(segment: string): string {
  const lower = segment.toLowerCase();
  return lower.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function setPath(target: Record<string, unknown>, segments: string[], value: unknown): void {
  let cur: Record<string, unknown> = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    const next = cur[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[segments[segments.length - 1]] = value;
}
