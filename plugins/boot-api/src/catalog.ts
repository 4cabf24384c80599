import fs from 'node:fs';
import path from 'node:path';
import { NODE_STATES, type NodeState } from '@pureboot/core';
import { archMatches, archSelectorsOverlap, isArchSelector } from './arch';
import { BootApiError, BootApiErrorCodes } from './errors';
import { lineFragmentProblems } from './ipxe-safe';
import { normaliseMac } from './mac';
import { compileTemplate, type CompiledTemplate } from './template';
import { labelProblems } from './labels';

/** A profile: what a machine installs. Either a kernel (+ initrds + command line) or a raw iPXE script template. */
export interface ProfileSpec {
  description?: string;
  /** Kernel URL, or a path served by this boot API's /api/v1/assets/ (fileResolve). Template. */
  kernel?: string;
  /** Initrd URLs or asset paths, in order. Templates. */
  initrds?: string[];
  /** Kernel command line. Template; may use iPXE `${setting}` references. */
  cmdline?: string;
  /** A whole iPXE script template (starts with #!ipxe). Exclusive with kernel. */
  script?: string;
}

export interface GroupSpec {
  description?: string;
  /** The profile machines of this group install. */
  profile: string;
  /** Selectors (all given ones must match). */
  mac?: string;
  arch?: string;
  state?: NodeState;
  labels?: Record<string, string>;
}

export type ProfileKind = 'kernel' | 'script';

export interface Profile extends ProfileSpec {
  name: string;
  kind: ProfileKind;
  source: 'config' | 'api';
}

export interface CompiledProfile extends Profile {
  compiled: { kernel?: CompiledTemplate; initrds: CompiledTemplate[]; cmdline?: CompiledTemplate; script?: CompiledTemplate };
}

export interface Group extends GroupSpec {
  name: string;
  source: 'config' | 'api';
}

export interface SelectionInput {
  mac: string;
  arch?: string;
  state: NodeState;
  labels: Record<string, string>;
  profile?: string;
}

export interface Candidate {
  group: string;
  profile: string;
  score: number;
}

export interface Selection {
  profile?: CompiledProfile;
  by: 'node' | 'group' | 'none';
  group?: string;
  /** Every group that matched, most specific first. */
  candidates: Candidate[];
  /** Why nothing was selected, when nothing was. */
  reason?: string;
}

export const NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
const NAME_RE = new RegExp(NAME_PATTERN);

/** Specificity: a MAC beats any combination of the rest; otherwise every matched criterion counts one. */
export function groupScore(g: GroupSpec): number {
  return (g.mac ? 100 : 0) + (g.arch ? 1 : 0) + (g.state ? 1 : 0) + Object.keys(g.labels ?? {}).length;
}

export function groupMatches(g: GroupSpec, n: SelectionInput): boolean {
  if (g.mac && normaliseMac(g.mac) !== n.mac) return false;
  if (g.arch && !archMatches(g.arch, n.arch)) return false;
  if (g.state && g.state !== n.state) return false;
  for (const [k, v] of Object.entries(g.labels ?? {})) if (n.labels[k] !== v) return false;
  return true;
}

/** Could one machine match both groups? */
export function groupsOverlap(a: GroupSpec, b: GroupSpec): boolean {
  if (a.mac && b.mac && normaliseMac(a.mac) !== normaliseMac(b.mac)) return false;
  if (a.arch && b.arch && !archSelectorsOverlap(a.arch, b.arch)) return false;
  if (a.state && b.state && a.state !== b.state) return false;
  for (const [k, v] of Object.entries(a.labels ?? {})) if (b.labels && k in b.labels && b.labels[k] !== v) return false;
  return true;
}

/** Pairs of groups that are equally specific and can match the same machine: a config error. */
export function findTies(groups: Group[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const a = groups[i];
      const b = groups[j];
      if (groupScore(a) === groupScore(b) && groupsOverlap(a, b)) {
        out.push(`groups "${a.name}" and "${b.name}" are equally specific (score ${groupScore(a)}) and can match the same machine; make one more specific`);
      }
    }
  }
  return out;
}

function placeholdersAsWords(s: string): string {
  return s.replace(/\{\{[^}]*\}\}/g, 'x');
}

/** Validate and compile a profile; throws PB_ERR_BOOTAPI_TEMPLATE naming the field. */
export function compileProfile(name: string, spec: ProfileSpec, source: 'config' | 'api'): CompiledProfile {
  const where = `profile "${name}"`;
  const bad = (what: string) => new BootApiError(BootApiErrorCodes.TEMPLATE, 400, `${where}: ${what}`, { profile: name });
  if (!NAME_RE.test(name)) throw bad(`name must match ${NAME_PATTERN}`);
  if (spec.script !== undefined && (spec.kernel !== undefined || spec.initrds !== undefined || spec.cmdline !== undefined)) {
    throw bad('give either "script" or "kernel" (with "initrds", "cmdline"), not both');
  }
  if (spec.script !== undefined) {
    if (!spec.script.startsWith('#!ipxe')) throw bad('"script" must start with #!ipxe');
    return { ...spec, name, kind: 'script', source, compiled: { initrds: [], script: compileTemplate(spec.script, `${where}.script`) } };
  }
  if (!spec.kernel) throw bad('needs "kernel" (with optional "initrds" and "cmdline") or "script"');
  for (const [field, value] of [['kernel', spec.kernel], ...(spec.initrds ?? []).map((v, i) => [`initrds[${i}]`, v])] as Array<[string, string]>) {
    const words = placeholdersAsWords(value);
    const problems = lineFragmentProblems(words);
    if (/\s/.test(words)) problems.push('contains whitespace');
    if (problems.length) throw bad(`"${field}" ${problems.join('; ')}`);
  }
  if (spec.cmdline !== undefined) {
    const problems = lineFragmentProblems(placeholdersAsWords(spec.cmdline));
    if (problems.length) throw bad(`"cmdline" ${problems.join('; ')}`);
  }
  return {
    ...spec,
    name,
    kind: 'kernel',
    source,
    compiled: {
      kernel: compileTemplate(spec.kernel, `${where}.kernel`),
      initrds: (spec.initrds ?? []).map((t, i) => compileTemplate(t, `${where}.initrds[${i}]`)),
      cmdline: spec.cmdline !== undefined ? compileTemplate(spec.cmdline, `${where}.cmdline`) : undefined,
    },
  };
}

export function validateGroup(name: string, spec: GroupSpec): string[] {
  const problems: string[] = [];
  if (!NAME_RE.test(name)) problems.push(`name must match ${NAME_PATTERN}`);
  if (spec.mac !== undefined && !normaliseMac(spec.mac)) problems.push(`"mac" ${JSON.stringify(spec.mac)} is not a MAC address`);
  if (spec.arch !== undefined && !isArchSelector(spec.arch)) problems.push(`"arch" ${JSON.stringify(spec.arch)} is not an architecture (x86_64-efi, i386-pcbios, efi, pcbios, arm64 …)`);
  if (spec.state !== undefined && !(NODE_STATES as readonly string[]).includes(spec.state)) problems.push(`"state" must be one of ${NODE_STATES.join(', ')}`);
  problems.push(...labelProblems(spec.labels ?? {}));
  return problems;
}

interface CatalogFile {
  profiles: Record<string, ProfileSpec>;
  groups: Record<string, GroupSpec>;
}

/**
 * Profiles and groups: the ones from the config (read-only) and the ones made through the API
 * (kept in `<dataDir>/boot-api-catalog.json`, rewritten atomically on every change).
 */
export class Catalog {
  private readonly profiles = new Map<string, CompiledProfile>();
  private readonly groups = new Map<string, Group>();
  private sorted: Group[] = [];

  constructor(
    config: { profiles: Record<string, ProfileSpec>; groups: Record<string, GroupSpec> },
    private readonly file: string | undefined,
  ) {
    let data: CatalogFile = { profiles: {}, groups: {} };
    if (file && fs.existsSync(file)) {
      try {
        data = JSON.parse(fs.readFileSync(file, 'utf8')) as CatalogFile;
      } catch (err) {
        throw new BootApiError(BootApiErrorCodes.CATALOG_FILE, 500, `${file}: cannot read the profile/group catalog: ${(err as Error).message}`, { file });
      }
    }
    for (const [name, spec] of Object.entries(config.profiles)) this.profiles.set(name, compileProfile(name, spec, 'config'));
    for (const [name, spec] of Object.entries(data.profiles ?? {})) if (!this.profiles.has(name)) this.profiles.set(name, compileProfile(name, spec, 'api'));
    for (const [name, spec] of Object.entries(config.groups)) this.addGroupChecked(name, spec, 'config');
    for (const [name, spec] of Object.entries(data.groups ?? {})) if (!this.groups.has(name)) this.addGroupChecked(name, spec, 'api');
    this.resort();
  }

  private addGroupChecked(name: string, spec: GroupSpec, source: 'config' | 'api'): void {
    const problems = validateGroup(name, spec);
    if (problems.length) throw new BootApiError(BootApiErrorCodes.TEMPLATE, 400, `group "${name}": ${problems.join('; ')}`, { group: name });
    if (!this.profiles.has(spec.profile)) throw new BootApiError(BootApiErrorCodes.PROFILE_NOT_FOUND, 400, `group "${name}": profile "${spec.profile}" does not exist`, { group: name });
    const group: Group = { ...spec, mac: spec.mac ? normaliseMac(spec.mac) : undefined, name, source };
    if (group.mac === undefined) delete group.mac;
    const ties = findTies([...[...this.groups.values()].filter((g) => g.name !== name), group]).filter((t) => t.includes(`"${name}"`));
    if (ties.length) throw new BootApiError(BootApiErrorCodes.GROUP_TIE, 409, ties.join('; '), { group: name });
    this.groups.set(name, group);
  }

  private resort(): void {
    this.sorted = [...this.groups.values()].sort((a, b) => groupScore(b) - groupScore(a) || a.name.localeCompare(b.name));
  }

  listProfiles(): Profile[] {
    return [...this.profiles.values()].map(publicProfile);
  }
  getProfile(name: string): CompiledProfile | undefined {
    return this.profiles.get(name);
  }
  /** Most specific first (the order selection tries them), then by name. */
  listGroups(): Group[] {
    return [...this.sorted];
  }
  getGroup(name: string): Group | undefined {
    return this.groups.get(name);
  }

  putProfile(name: string, spec: ProfileSpec): { profile: Profile; created: boolean } {
    const existing = this.profiles.get(name);
    if (existing?.source === 'config') throw readonly('profile', name);
    const compiled = compileProfile(name, spec, 'api');
    this.profiles.set(name, compiled);
    this.save();
    return { profile: publicProfile(compiled), created: !existing };
  }

  deleteProfile(name: string): boolean {
    const existing = this.profiles.get(name);
    if (!existing) return false;
    if (existing.source === 'config') throw readonly('profile', name);
    const users = [...this.groups.values()].filter((g) => g.profile === name).map((g) => g.name);
    if (users.length) throw new BootApiError(BootApiErrorCodes.PROFILE_IN_USE, 409, `profile "${name}" is used by group(s) ${users.join(', ')}`, { profile: name });
    this.profiles.delete(name);
    this.save();
    return true;
  }

  putGroup(name: string, spec: GroupSpec): { group: Group; created: boolean } {
    const existing = this.groups.get(name);
    if (existing?.source === 'config') throw readonly('group', name);
    this.addGroupChecked(name, spec, 'api');
    this.resort();
    this.save();
    return { group: this.groups.get(name) as Group, created: !existing };
  }

  deleteGroup(name: string): boolean {
    const existing = this.groups.get(name);
    if (!existing) return false;
    if (existing.source === 'config') throw readonly('group', name);
    this.groups.delete(name);
    this.resort();
    this.save();
    return true;
  }

  /** The profile for a machine: its own `profile` first, else the most specific matching group. */
  select(n: SelectionInput): Selection {
    const candidates: Candidate[] = this.sorted.filter((g) => groupMatches(g, n)).map((g) => ({ group: g.name, profile: g.profile, score: groupScore(g) }));
    if (n.profile) {
      const p = this.profiles.get(n.profile);
      if (!p) return { by: 'none', candidates, reason: `the machine's profile "${n.profile}" does not exist` };
      return { profile: p, by: 'node', candidates };
    }
    if (candidates.length === 0) return { by: 'none', candidates, reason: 'no group matches this machine and it has no profile of its own' };
    const best = candidates[0];
    const p = this.profiles.get(best.profile);
    if (!p) return { by: 'none', candidates, reason: `group "${best.group}" names profile "${best.profile}", which does not exist` };
    return { profile: p, by: 'group', group: best.group, candidates };
  }

  private save(): void {
    if (!this.file) return;
    const data: CatalogFile = { profiles: {}, groups: {} };
    for (const p of this.profiles.values()) {
      if (p.source !== 'api') continue;
      const { name: _n, kind: _k, source: _s, compiled: _c, ...spec } = p;
      data.profiles[p.name] = spec;
    }
    for (const g of this.groups.values()) {
      if (g.source !== 'api') continue;
      const { name: _n, source: _s, ...spec } = g;
      data.groups[g.name] = spec;
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
      fs.renameSync(tmp, this.file);
    } catch (err) {
      throw new BootApiError(BootApiErrorCodes.CATALOG_FILE, 500, `${this.file}: cannot write the profile/group catalog: ${(err as Error).message}`, { file: this.file });
    }
  }
}

function publicProfile(p: CompiledProfile): Profile {
  const { compiled: _c, ...rest } = p;
  return rest;
}

function readonly(what: string, name: string): BootApiError {
  return new BootApiError(BootApiErrorCodes.READONLY, 409, `${what} "${name}" comes from the config file; change it there`, { [what]: name });
}
