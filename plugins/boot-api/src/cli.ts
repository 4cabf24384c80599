import type { CommandContext, NodeRecord, PluginCommand } from '@pureboot/core';
import { readToken } from './auth';
import { BootApiError, BootApiErrorCodes } from './errors';
import { hyphenMac, normaliseMac } from './mac';
import type { BootApiOptions } from './options';

/**
 * `pureboot nodes list|show|transition|label` and `pureboot explain MAC`: clients of the running
 * server's HTTP API. URL: --url, else http://<boot-api.address>:<boot-api.port> (0.0.0.0 → 127.0.0.1).
 * Token: --token, else boot-api.token, else <dataDir>/boot-api.token.
 */
export interface ApiClient {
  url: string;
  token?: string;
}

/** Where the running boot API is, for any plugin's CLI command (reads `boot-api:` of the deployment config). */
export function apiClient(ctx: Pick<CommandContext, 'config' | 'flags'>): ApiClient {
  const o = ((ctx.config as unknown as Record<string, unknown>)['boot-api'] ?? {}) as Partial<BootApiOptions>;
  const flagUrl = ctx.flags.url as string | undefined;
  let url = flagUrl;
  if (!url) {
    const address = !o.address || o.address === '0.0.0.0' ? '127.0.0.1' : o.address === '::' ? '::1' : o.address;
    url = `http://${address.includes(':') ? `[${address}]` : address}:${o.port ?? 8080}`;
  }
  return { url: url.replace(/\/+$/, ''), token: (ctx.flags.token as string | undefined) ?? readToken(o.token, ctx.config.server.dataDir) };
}

export async function call<T>(client: ApiClient, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${client.url}${path}`, {
      method,
      headers: { ...(client.token ? { authorization: `Bearer ${client.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new BootApiError(BootApiErrorCodes.CLI, 0, `cannot reach the PureBoot boot API at ${client.url} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); is "pureboot start" running? Use --url to point elsewhere`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* plain text */
    }
    throw new BootApiError(BootApiErrorCodes.CLI, res.status, `${method} ${path}: HTTP ${res.status}: ${message}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

function macArg(raw: string | undefined): string {
  const mac = normaliseMac(raw);
  if (!mac) throw new BootApiError(BootApiErrorCodes.INVALID_MAC, 0, `"${raw}" is not a MAC address`);
  return hyphenMac(mac);
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function formatTable(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const common: Array<[string, string, string?]> = [
  ['--url <url>', 'boot API URL (default: from the config)'],
  ['--token <token>', 'API token (default: boot-api.token or <dataDir>/boot-api.token)'],
  ['--json', 'print JSON'],
];

export const commands: PluginCommand[] = [
  {
    name: 'nodes list',
    description: 'List machines known to the boot API',
    flags: [['--state <state>', 'only machines in this state'], ['--label <key=value>', 'only machines with this label (comma-separated for several)'], ['--limit <n>', 'page size', '100'], ...common],
    async run(ctx) {
      const client = apiClient(ctx);
      const q = new URLSearchParams();
      if (ctx.flags.state) q.set('state', String(ctx.flags.state));
      for (const l of String(ctx.flags.label ?? '').split(',').filter(Boolean)) q.append('label', l);
      q.set('limit', String(ctx.flags.limit ?? '100'));
      const page = await call<{ items: NodeRecord[]; nextCursor?: string }>(client, 'GET', `/api/v1/nodes?${q}`);
      if (ctx.flags.json) {
        ctx.print(JSON.stringify(page, null, 2));
        return 0;
      }
      const rows = [['MAC', 'STATE', 'ARCH', 'PROFILE', 'LAST SEEN', 'LABELS'], ...page.items.map((n) => [n.mac, n.state, n.arch ?? '-', n.profile ?? '-', ago(n.lastSeen), labelsText(n.labels) || '-'])];
      for (const line of formatTable(rows)) ctx.print(line);
      if (page.nextCursor) ctx.print(`(more: --limit or the API with cursor=${page.nextCursor})`);
      return 0;
    },
  },
  {
    name: 'nodes show',
    description: 'Show one machine: state, labels, attributes, history and recent boot timeline',
    args: '<mac>',
    flags: common,
    async run(ctx) {
      const client = apiClient(ctx);
      const mac = macArg(ctx.args[0]);
      const node = await call<NodeRecord>(client, 'GET', `/api/v1/nodes/${mac}`);
      const timeline = await call<{ events: Array<{ at: number; source: string; kind: string; detail: Record<string, unknown> }> }>(client, 'GET', `/api/v1/nodes/${mac}/timeline?limit=10000`);
      if (ctx.flags.json) {
        ctx.print(JSON.stringify({ node, timeline: timeline.events }, null, 2));
        return 0;
      }
      ctx.print(`mac:        ${node.mac}`);
      ctx.print(`state:      ${node.state} since ${new Date(node.stateSince).toISOString()}`);
      ctx.print(`arch:       ${node.arch ?? '-'}`);
      ctx.print(`profile:    ${node.profile ?? '-'}`);
      ctx.print(`labels:     ${labelsText(node.labels) || '-'}`);
      ctx.print(`attributes: ${JSON.stringify(node.attributes)}`);
      ctx.print(`first seen: ${new Date(node.firstSeen).toISOString()}, last seen ${new Date(node.lastSeen).toISOString()}`);
      ctx.print('history:');
      for (const h of node.history) ctx.print(`  ${new Date(h.at).toISOString()}  ${h.from ?? 'new'} → ${h.to}  (${h.reason}${h.actor ? `, by ${h.actor}` : ''})`);
      ctx.print('timeline (last 20):');
      for (const e of timeline.events.slice(-20)) ctx.print(`  ${new Date(e.at).toISOString()}  ${e.kind.padEnd(22)} ${JSON.stringify(e.detail)}`);
      return 0;
    },
  },
  {
    name: 'nodes transition',
    description: 'Move a machine to another lifecycle state (reinstall: to pending)',
    args: '<mac> <state>',
    flags: [['--reason <text>', 'why (kept in the history)'], ...common],
    async run(ctx) {
      const client = apiClient(ctx);
      const mac = macArg(ctx.args[0]);
      const node = await call<NodeRecord>(client, 'POST', `/api/v1/nodes/${mac}/transition`, { to: ctx.args[1], ...(ctx.flags.reason ? { reason: String(ctx.flags.reason) } : {}) });
      ctx.print(ctx.flags.json ? JSON.stringify(node, null, 2) : `${node.mac} is now ${node.state}`);
      return 0;
    },
  },
  {
    name: 'nodes label',
    description: 'Set (key=value) or remove (key-) labels of a machine',
    args: '<mac> <labels...>',
    flags: common,
    async run(ctx) {
      const client = apiClient(ctx);
      const mac = macArg(ctx.args[0]);
      const labels: Record<string, string | null> = {};
      for (const a of ctx.args.slice(1)) {
        const i = a.indexOf('=');
        if (i > 0) labels[a.slice(0, i)] = a.slice(i + 1);
        else if (a.endsWith('-') && a.length > 1) labels[a.slice(0, -1)] = null;
        else throw new BootApiError(BootApiErrorCodes.INVALID_LABEL, 0, `"${a}": write key=value to set a label or key- to remove it`);
      }
      const node = await call<NodeRecord>(client, 'PATCH', `/api/v1/nodes/${mac}`, { labels });
      ctx.print(ctx.flags.json ? JSON.stringify(node, null, 2) : `${node.mac}: ${labelsText(node.labels) || '(no labels)'}`);
      return 0;
    },
  },
  {
    name: 'explain',
    description: 'Dry run: which profile/group a machine matches, what each scriptRender tap did, and its script',
    args: '<mac>',
    flags: [['--arch <arch>', 'architecture (x86_64-efi, i386-pcbios, bios, uefi-x86_64 …)'], ...common],
    async run(ctx) {
      const client = apiClient(ctx);
      const mac = macArg(ctx.args[0]);
      const q = new URLSearchParams({ mac });
      if (ctx.flags.arch) q.set('arch', String(ctx.flags.arch));
      const r = await call<{
        registered: boolean;
        state: string;
        arch: string;
        selection: { by: string; profile?: string; group?: string; candidates: Array<{ group: string; profile: string; score: number }>; reason?: string };
        builtin: { kind: string; transition?: { from: string; to: string } };
        taps: Array<{ name: string; stage: number; changed: boolean }>;
        script: string;
      }>(client, 'GET', `/api/v1/explain?${q}`);
      if (ctx.flags.json) {
        ctx.print(JSON.stringify(r, null, 2));
        return 0;
      }
      ctx.print(`machine:   ${mac} (${r.registered ? 'registered' : 'unknown: would be registered as discovered'}), state ${r.state}, arch ${r.arch}`);
      const sel = r.selection;
      ctx.print(`profile:   ${sel.profile ?? '-'} (${sel.by === 'node' ? "the machine's own profile" : sel.by === 'group' ? `group ${sel.group}` : sel.reason ?? 'none'})`);
      for (const cnd of sel.candidates) ctx.print(`  matching group ${cnd.group} → ${cnd.profile} (specificity ${cnd.score})`);
      ctx.print(`script:    ${r.builtin.kind}${r.builtin.transition ? ` (serving it moves ${r.builtin.transition.from} → ${r.builtin.transition.to})` : ''}`);
      for (const t of r.taps) ctx.print(`  tap ${t.name} (stage ${t.stage}): ${t.changed ? 'changed the script' : 'left it as it was'}`);
      ctx.print('---');
      for (const line of r.script.trimEnd().split('\n')) ctx.print(line);
      return 0;
    },
  },
];
