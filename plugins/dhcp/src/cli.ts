import fs from 'node:fs';
import path from 'node:path';
import type { CommandContext, PluginCommand } from '@pureboot/core';
import { DhcpCodecError, DhcpErrorCodes } from './codec/errors';
import type { LeaseView } from './api/lease-view';

/** `pureboot leases list|show|release`: clients of the running server's lease routes on the boot API. */
function target(ctx: CommandContext): { url: string; token?: string } {
  const api = (ctx.config['boot-api'] ?? {}) as { address?: string; port?: number; token?: string };
  let url = ctx.flags.url as string | undefined;
  if (!url) {
    const a = !api.address || api.address === '0.0.0.0' ? '127.0.0.1' : api.address === '::' ? '::1' : api.address;
    url = `http://${a.includes(':') ? `[${a}]` : a}:${api.port ?? 8080}`;
  }
  let token = (ctx.flags.token as string | undefined) ?? api.token;
  if (!token) {
    try {
      token = fs.readFileSync(path.join(ctx.config.server.dataDir, 'boot-api.token'), 'utf8').trim() || undefined;
    } catch {
      token = undefined;
    }
  }
  return { url: url.replace(/\/+$/, ''), token };
}

async function call<T>(ctx: CommandContext, method: string, p: string): Promise<T> {
  const t = target(ctx);
  let res: Response;
  try {
    res = await fetch(`${t.url}${p}`, { method, headers: t.token ? { authorization: `Bearer ${t.token}` } : {}, signal: AbortSignal.timeout(15000) });
  } catch (err) {
    throw new DhcpCodecError(DhcpErrorCodes.CLI, `cannot reach PureBoot at ${t.url} (${(err as Error).message}); is "pureboot start" running with boot-api? Use --url`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* plain text */
    }
    throw new DhcpCodecError(DhcpErrorCodes.CLI, `${method} ${p}: HTTP ${res.status}: ${message}`, { status: res.status });
  }
  return JSON.parse(text) as T;
}

function table(rows: string[][]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  '));
}

function print(ctx: CommandContext, items: LeaseView[]): void {
  if (ctx.flags.json) return ctx.print(JSON.stringify(items, null, 2));
  const rows = [['ADDRESS', 'MAC', 'STATE', 'SUBNET', 'EXPIRES', 'HOSTNAME'], ...items.map((l) => [l.address, l.mac, l.state, l.subnetId, l.expiresAt, l.hostname ?? ''])];
  for (const line of table(rows)) ctx.print(line);
}

const common: Array<[string, string, string?]> = [
  ['--url <url>', 'PureBoot boot API URL (default: from the config)'],
  ['--token <token>', 'API token (default: boot-api.token or <dataDir>/boot-api.token)'],
  ['--json', 'print JSON'],
];

export const commands: PluginCommand[] = [
  {
    name: 'leases list',
    description: 'List DHCP leases',
    flags: [['--subnet <id>', 'only this subnet'], ['--state <state>', 'offered|bound|released|declined|expired'], ...common],
    async run(ctx) {
      const items: LeaseView[] = [];
      let cursor: string | undefined;
      do {
        const q = new URLSearchParams({ limit: '1000' });
        if (ctx.flags.subnet) q.set('subnet', String(ctx.flags.subnet));
        if (ctx.flags.state) q.set('state', String(ctx.flags.state));
        if (cursor) q.set('cursor', cursor);
        const page = await call<{ items: LeaseView[]; nextCursor?: string }>(ctx, 'GET', `/api/v1/leases?${q.toString()}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      print(ctx, items);
    },
  },
  {
    name: 'leases show',
    description: 'Show the lease of an address, or the leases of a MAC',
    args: '<address-or-mac>',
    flags: common,
    async run(ctx) {
      const page = await call<{ items: LeaseView[] }>(ctx, 'GET', `/api/v1/leases/${encodeURIComponent(ctx.args[0] ?? '')}`);
      print(ctx, page.items);
    },
  },
  {
    name: 'leases release',
    description: 'Release the lease of an address (it returns to the pool)',
    args: '<address>',
    flags: common,
    async run(ctx) {
      const l = await call<LeaseView>(ctx, 'POST', `/api/v1/leases/${encodeURIComponent(ctx.args[0] ?? '')}/release`);
      print(ctx, [l]);
    },
  },
];
