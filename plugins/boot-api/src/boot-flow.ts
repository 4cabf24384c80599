import { isIPv4, notify, type Clock, type Logger, type NodePatch, type NodeRecord, type NodeState, type NodeStore, type PurebootHooks, type ScriptRenderContext } from '@pureboot/core';
import { normaliseArch } from './arch';
import { callbackToken } from './auth';
import type { Catalog, Selection } from './catalog';
import { BootApiError, BootApiErrorCodes } from './errors';
import type { NodeLifecycle } from './lifecycle';
import { hexClass, hyphenMac, normaliseMac } from './mac';
import type { BootApiMetrics } from './metrics';
import type { BootApiOptions } from './options';
import { discoveryMenuScript, installScript, localScript, noProfileScript, type BuiltinKind, type MachineInfo, type ScriptInput } from './scripts';

export interface BootQuery {
  mac?: string;
  arch?: string;
  buildarch?: string;
  platform?: string;
  uuid?: string;
  serial?: string;
  hostname?: string;
  ip?: string;
  [k: string]: string | undefined;
}

export interface BootResult {
  mac: string;
  arch: string;
  /** The state whose script was built (before a transition the serving caused). */
  state: NodeState;
  kind: BuiltinKind;
  profile?: string;
  builtin: string;
  script: string;
  /** Read-only: may be the store's own (frozen) record. */
  node: Readonly<NodeRecord>;
  transition?: { from: NodeState; to: NodeState };
}

export interface TapReport {
  name: string;
  stage: number;
  /** Did this tap change the script? */
  changed: boolean;
}

export interface ExplainResult {
  mac: string;
  arch: string;
  registered: boolean;
  node: NodeRecord | null;
  state: NodeState;
  selection: { by: Selection['by']; profile?: string; group?: string; candidates: Selection['candidates']; reason?: string };
  builtin: { kind: BuiltinKind; script: string; transition?: { from: NodeState; to: NodeState } };
  taps: TapReport[];
  script: string;
  deadline?: number;
}

export interface BootFlowDeps {
  options: BootApiOptions;
  nodeStore: NodeStore;
  hooks: PurebootHooks;
  clock: Clock;
  logger: Logger;
  catalog: Catalog;
  lifecycle: NodeLifecycle;
  metrics: BootApiMetrics;
  token: () => string | undefined;
}

const ATTRIBUTE_KEYS = ['ip', 'uuid', 'serial', 'hostname'] as const;

/**
 * What the client told us about itself (only well-formed values are kept). `stored` is what the
 * machine's record holds: a value equal to it passed these checks when it was stored, and a machine
 * sends the same values at every boot, so they are not checked again.
 */
export function machineInfo(q: BootQuery, clientAddress: string, stored: Readonly<Record<string, unknown>> = {}): MachineInfo {
  const info: MachineInfo = {};
  const ip = q.ip && wellFormedIp(q.ip, stored.ip) ? q.ip : wellFormedIp(clientAddress, stored.ip) ? clientAddress : undefined;
  if (ip) info.ip = ip;
  const uuid = q.uuid && (q.uuid === stored.uuid ? q.uuid : smbiosUuid(q.uuid));
  if (uuid) info.uuid = uuid;
  if (q.serial) info.serial = q.serial;
  if (q.hostname) info.hostname = q.hostname;
  return info;
}

/** An address a machine may be recorded with: the stored one, or any IPv4 address but 0.0.0.0. */
function wellFormedIp(v: string, stored: unknown): boolean {
  return v === stored || (v !== '0.0.0.0' && isIPv4(v));
}

/** 32–36 hex digits and hyphens (iPXE's `${uuid}`), lower-cased; undefined for anything else. By character codes: every long-form boot request has one. */
export function smbiosUuid(s: string): string | undefined {
  const n = s.length;
  if (n < 32 || n > 36) return undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) continue;
    const h = hexClass(c);
    if (!h) return undefined;
    seen |= h;
  }
  return seen & 2 ? s.toLowerCase() : s;
}

/**
 * The boot endpoint's work: find or register the machine, build its lifecycle script (moving it along
 * the one-shot transitions pending → installing and installed → active), run scriptRender, report.
 */
export class BootFlow {
  constructor(private readonly d: BootFlowDeps) {}

  callbackUrl(baseUrl: string, mac: string): string {
    const token = this.d.token();
    if (!token) throw new BootApiError(BootApiErrorCodes.NOT_STARTED, 503, 'the boot API is not started yet');
    return `${baseUrl}/api/v1/nodes/${hyphenMac(mac)}/events?token=${callbackToken(token, mac)}`;
  }

  private input(mac: string, arch: string, node: Readonly<NodeRecord>, baseUrl: string, machine: MachineInfo): ScriptInput {
    const o = this.d.options;
    // The callback URL carries an HMAC: computed only when a script uses it (install scripts), not per boot.
    return { mac, arch, state: node.state, node, baseUrl, callbackUrl: () => this.callbackUrl(baseUrl, mac), machine, discovery: o.discovery, menuTimeoutMs: o.menuTimeoutMs, installRetries: o.installRetries };
  }

  private select(node: Readonly<NodeRecord>, arch: string): Selection {
    return this.d.catalog.select({ mac: node.mac, arch: arch === 'unknown' ? node.arch : arch, state: node.state, labels: node.labels, profile: node.profile });
  }

  /** The built-in script for the machine's current state, and the transition serving it makes. */
  private builtin(input: ScriptInput, node: Readonly<NodeRecord>, select: () => Selection): { kind: BuiltinKind; script: string; profile?: string; to?: NodeState } {
    switch (node.state) {
      case 'pending': {
        // Only a pending machine's script depends on its profile: the others skip the group selection.
        const selection = select();
        if (!selection.profile) return { kind: 'no-profile', script: noProfileScript(input) };
        return { kind: 'install', script: installScript(input, selection.profile), profile: selection.profile.name, to: 'installing' };
      }
      case 'installed':
        return { kind: 'local', script: localScript(input, ' (first local boot: now active)'), to: 'active' };
      case 'discovered':
        return this.d.options.discovery === 'menu' ? { kind: 'discovery-menu', script: discoveryMenuScript(input) } : { kind: 'local', script: localScript(input, '') };
      case 'installing':
        return { kind: 'local', script: localScript(input, ' (install not confirmed yet)') };
      default:
        return { kind: 'local', script: localScript(input, '') };
    }
  }

  /** What serving this request changes on the record (undefined, and nothing allocated, for a known machine seen recently). */
  private touch(node: Readonly<NodeRecord>, arch: string, machine: MachineInfo, now: number): Omit<NodePatch, 'state' | 'transition'> | undefined {
    let patch: Omit<NodePatch, 'state' | 'transition'> | undefined;
    if (arch !== 'unknown' && node.arch !== arch) (patch ??= {}).arch = arch;
    // Each attribute by name (a loop over the keys made every read a megamorphic keyed load).
    const stored = node.attributes;
    let attrs: Record<string, unknown> | undefined;
    if (machine.ip !== undefined && stored.ip !== machine.ip) (attrs ??= {}).ip = machine.ip;
    if (machine.uuid !== undefined && stored.uuid !== machine.uuid) (attrs ??= {}).uuid = machine.uuid;
    if (machine.serial !== undefined && stored.serial !== machine.serial) (attrs ??= {}).serial = machine.serial;
    if (machine.hostname !== undefined && stored.hostname !== machine.hostname) (attrs ??= {}).hostname = machine.hostname;
    if (attrs) (patch ??= {}).attributes = attrs;
    if (patch || now - node.lastSeen >= this.d.options.lastSeenIntervalMs) (patch ??= {}).lastSeen = now;
    return patch;
  }

  async boot(q: BootQuery, client: { address: string }, baseUrl: string): Promise<BootResult> {
    const started = performance.now();
    const mac = normaliseMac(q.mac);
    if (!mac) throw new BootApiError(BootApiErrorCodes.INVALID_MAC, 400, `"${String(q.mac).slice(0, 40)}" is not a MAC address (aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff)`);
    const { nodeStore, lifecycle, clock } = this.d;
    const arch = normaliseArch(q);
    const now = clock.now();
    // The record is only read here, unless a scriptRender tap gets it in its context: then a copy.
    let node: Readonly<NodeRecord> | undefined = nodeStore.peek && !this.d.hooks.scriptRender.isUsed() ? await nodeStore.peek(mac) : await nodeStore.get(mac);
    const machine = machineInfo(q, client.address, node?.attributes);
    if (!node) {
      const attributes: Record<string, unknown> = {};
      for (const k of ATTRIBUTE_KEYS) if (machine[k] !== undefined) attributes[k] = machine[k];
      node = (await lifecycle.register({ mac, state: 'discovered', arch: arch === 'unknown' ? undefined : arch, attributes, now, reason: 'first boot request' }, 'boot')).node;
    }
    let result: { kind: BuiltinKind; script: string; profile?: string; to?: NodeState } | undefined;
    let built: NodeState = node.state;
    let transition: BootResult['transition'];
    for (let attempt = 0; attempt < 8 && !result; attempt++) {
      const current = node;
      const b = this.builtin(this.input(mac, arch, current, baseUrl, machine), current, () => this.select(current, arch));
      const patch = this.touch(node, arch, machine, now);
      built = node.state;
      if (b.to) {
        const reason = b.kind === 'install' ? `install script served (profile ${b.profile})` : 'local boot after install';
        const res = await lifecycle.transition(mac, b.to, { from: [node.state], reason, actor: 'boot', patch });
        if (res.ok) {
          transition = { from: res.from, to: res.node.state };
          node = res.node;
          result = b;
        } else if (res.reason === 'not-found') {
          throw new BootApiError(BootApiErrorCodes.NODE_NOT_FOUND, 404, `machine ${mac} was deleted while booting`);
        } else {
          node = res.node; // someone else moved it first: build the script of its new state
        }
        continue;
      }
      if (patch) {
        const res = await nodeStore.update(mac, node.version, patch);
        if (res.ok) node = res.node;
        else if (res.reason === 'version-conflict' && res.current.state !== node.state) {
          node = res.current;
          continue;
        }
      }
      result = b;
    }
    if (!result) throw new BootApiError(BootApiErrorCodes.CONFLICT, 503, `machine ${mac} changed too often while its script was built; try again`);
    // No site plugin taps scriptRender: the lifecycle script is the answer (saves a hook round per boot).
    let script = result.script;
    if (this.d.hooks.scriptRender.isUsed()) {
      const ctx: ScriptRenderContext = { mac, node, state: built, arch, query: stringQuery(q), baseUrl, client: { address: client.address } };
      script = await this.d.hooks.scriptRender.promise(result.script, ctx);
    }
    const seconds = (performance.now() - started) / 1000;
    this.d.metrics.boots.inc({ state: built, arch, kind: result.kind });
    this.d.metrics.scriptSeconds.observe({ kind: result.kind }, seconds);
    void notify(
      this.d.hooks.bootEvent,
      { mac, address: client.address, at: now, source: 'http', kind: 'http.script', detail: { state: built, arch, kind: result.kind, profile: result.profile, bytes: Buffer.byteLength(script), durationMs: Math.round(seconds * 1e5) / 100, address: client.address } },
      this.d.logger,
    );
    return { mac, arch, state: built, kind: result.kind, profile: result.profile, builtin: result.script, script, node, transition };
  }

  /** A dry run of boot(): nothing is written, and each scriptRender tap is run on its own to show what it did. */
  async explain(q: BootQuery, client: { address: string }, baseUrl: string): Promise<ExplainResult> {
    const mac = normaliseMac(q.mac);
    if (!mac) throw new BootApiError(BootApiErrorCodes.INVALID_MAC, 400, `"${String(q.mac).slice(0, 40)}" is not a MAC address`);
    const arch = normaliseArch(q);
    const machine = machineInfo(q, client.address);
    const stored = await this.d.nodeStore.get(mac);
    const now = this.d.clock.now();
    const node: NodeRecord = stored ?? { mac, state: 'discovered', version: 0, arch: arch === 'unknown' ? undefined : arch, labels: {}, attributes: {}, firstSeen: now, lastSeen: now, stateSince: now, history: [] };
    const effectiveArch = arch === 'unknown' && node.arch ? node.arch : arch;
    const selection = this.select(node, effectiveArch);
    const b = this.builtin(this.input(mac, effectiveArch, node, baseUrl, machine), node, () => selection);
    const ctx = { mac, node, state: node.state, arch: effectiveArch, query: stringQuery(q), baseUrl, client: { address: client.address }, dryRun: true } as ScriptRenderContext;
    const { script, taps } = await runTapsOneByOne(this.d.hooks, b.script, ctx);
    return {
      mac,
      arch: effectiveArch,
      registered: Boolean(stored),
      node: stored ?? null,
      state: node.state,
      selection: { by: selection.by, profile: selection.profile?.name, group: selection.group, candidates: selection.candidates, reason: selection.reason },
      builtin: { kind: b.kind, script: b.script, transition: b.to ? { from: node.state, to: b.to } : undefined },
      taps,
      script,
      deadline: stored ? this.d.lifecycle.deadline(stored) : undefined,
    };
  }
}

function stringQuery(q: BootQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string') out[k] = v;
  return out;
}

interface RawTap {
  type: 'sync' | 'async' | 'promise';
  name: string;
  stage?: number;
  fn: (...args: unknown[]) => unknown;
}

/** Waterfall semantics (a tap returning undefined keeps the value), one tap at a time. */
async function runTapsOneByOne(hooks: PurebootHooks, initial: string, ctx: ScriptRenderContext): Promise<{ script: string; taps: TapReport[] }> {
  const taps = (hooks.scriptRender as unknown as { taps: RawTap[] }).taps;
  let current = initial;
  const reports: TapReport[] = [];
  for (const tap of taps) {
    let out: unknown;
    if (tap.type === 'sync') out = tap.fn(current, ctx);
    else if (tap.type === 'promise') out = await tap.fn(current, ctx);
    else {
      out = await new Promise((resolve, reject) => {
        tap.fn(current, ctx, (err: unknown, value: unknown) => (err ? reject(err) : resolve(value)));
      });
    }
    const next = out === undefined ? current : String(out);
    reports.push({ name: tap.name, stage: tap.stage ?? 0, changed: next !== current });
    current = next;
  }
  return { script: current, taps: reports };
}
