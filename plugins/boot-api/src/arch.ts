/**
 * Architecture names. The boot API keys everything on iPXE's own pair `${buildarch}-${platform}`
 * (`i386-pcbios`, `x86_64-efi`, `arm64-efi`, …) — the same string ScriptRenderContext.arch carries.
 * PXE names from DHCP (option 93: `bios`, `uefi-x86_64` …) map onto it.
 */
export type Platform = 'pcbios' | 'efi';

const BUILDARCHES = new Set(['i386', 'x86_64', 'arm32', 'arm64', 'riscv32', 'riscv64', 'loong64']);
const PLATFORMS = new Set<string>(['pcbios', 'efi']);

/** buildarch → platform → the one `${buildarch}-${platform}` string (no new string per request). */
const PAIRS = new Map([...BUILDARCHES].map((b) => [b, new Map([...PLATFORMS].map((p) => [p, `${b}-${p}`]))]));

/** A Map, not an object: a request's strings are looked up without being internalised first. */
const PXE_NAMES = new Map([
  ['bios', 'i386-pcbios'],
  ['uefi-ia32', 'i386-efi'],
  ['uefi-x86_64', 'x86_64-efi'],
  ['uefi-x86_64-http', 'x86_64-efi'],
  ['uefi-arm32', 'arm32-efi'],
  ['uefi-arm64', 'arm64-efi'],
  ['uefi-arm64-http', 'arm64-efi'],
]);

/** Every `${buildarch}-${platform}` pair, each its one string. */
const ARCHES = new Map([...PAIRS.values()].flatMap((byPlatform) => [...byPlatform.values()].map((a) => [a, a] as const)));

export interface ArchQuery {
  arch?: string;
  buildarch?: string;
  platform?: string;
}

/** The normalised architecture for what a client sent, or `unknown`. Never returns anything else. */
export function normaliseArch(q: ArchQuery): string {
  const arch = q.arch?.toLowerCase();
  const platform = q.platform?.toLowerCase();
  const buildarch = q.buildarch?.toLowerCase();
  if (arch) {
    const named = ARCHES.get(arch) ?? PXE_NAMES.get(arch);
    if (named) return named;
    const pair = platform ? PAIRS.get(arch)?.get(platform) : undefined;
    if (pair) return pair;
  }
  const pair = buildarch && platform ? PAIRS.get(buildarch)?.get(platform) : undefined;
  if (pair) return pair;
  if (platform === 'pcbios') return 'i386-pcbios';
  return 'unknown';
}

export function platformOf(arch: string | undefined): Platform | undefined {
  if (!arch) return undefined;
  if (arch.endsWith('-efi')) return 'efi';
  if (arch.endsWith('-pcbios')) return 'pcbios';
  return undefined;
}

/**
 * Does a group's arch selector match an architecture? A selector is a full name (`x86_64-efi`), a
 * platform (`efi`, `pcbios`, or `bios`/`uefi` as aliases) or a buildarch (`arm64`).
 */
export function archMatches(selector: string, arch: string | undefined): boolean {
  if (!arch) return false;
  const [b, p] = arch.split('-');
  const s = selector.toLowerCase();
  if (s === arch) return true;
  if (s === 'bios' || s === 'pcbios') return p === 'pcbios';
  if (s === 'uefi' || s === 'efi') return p === 'efi';
  return s === b;
}

/** Could some architecture satisfy both selectors? (for group tie detection) */
export function archSelectorsOverlap(a: string, b: string): boolean {
  const all = [...BUILDARCHES].flatMap((x) => [`${x}-pcbios`, `${x}-efi`]);
  return all.some((arch) => archMatches(a, arch) && archMatches(b, arch));
}

export function isArchSelector(s: string): boolean {
  const v = s.toLowerCase();
  if (['bios', 'pcbios', 'uefi', 'efi'].includes(v) || BUILDARCHES.has(v)) return true;
  const m = /^([a-z0-9_]+)-(pcbios|efi)$/.exec(v);
  return Boolean(m && BUILDARCHES.has(m[1]));
}
