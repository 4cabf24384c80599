import fs from 'node:fs';
import path from 'node:path';
import type { CommandContext, PluginCommand } from '@pureboot/core';
import { apiClient, type ApiClient } from '@pureboot/plugin-boot-api';
import { IpxeError, IpxeErrorCodes } from './errors';
import { FEATURE_NAMES } from './features';
import { parseBuildRequest, type BuildRequest } from './inputs';
import type { JobView } from './jobs';
import type { IpxeBuilderOptions } from './options';

/**
 * `pureboot ipxe build`: a client of the running server's build API (POST, follow with a progress
 * bar, print the log on failure, download the artifact on success). Inputs are validated here before
 * anything is sent, and again by the server.
 */
export interface CliIo {
  /** Where the progress bar goes (stderr by default). */
  progress(text: string): void;
  isTty: boolean;
  pollMs: number;
}

type Client = ApiClient;

const client = apiClient;

async function call(c: Client, method: string, p: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${c.url}${p}`, {
      method,
      headers: { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new IpxeError(IpxeErrorCodes.CLI, 0, `cannot reach the PureBoot API at ${c.url} (${cause?.message ?? (err as Error).message}); is "pureboot start" running? Use --url to point elsewhere`);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* plain text */
    }
    throw new IpxeError(IpxeErrorCodes.CLI, res.status, `${method} ${p}: HTTP ${res.status}: ${message}`);
  }
  return res;
}

export function progressBar(v: Pick<JobView, 'progress' | 'phase' | 'status'>, width = 30): string {
  const p = Math.max(0, Math.min(1, v.progress));
  const n = Math.round(p * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${String(Math.round(p * 100)).padStart(3)}% ${v.status === 'running' ? v.phase : v.status}`;
}

/** Lines of `event: log` from a finished build's server-sent event stream. */
export function logLinesFromSse(text: string): string[] {
  const lines: string[] = [];
  for (const block of text.split('\n\n')) {
    const rows = block.split('\n');
    if (rows[0] !== 'event: log') continue;
    lines.push(rows.slice(1).map((r) => r.replace(/^data: ?/, '')).join('\n'));
  }
  return lines;
}

function listFlag(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((s) => String(s).split(',')).filter(Boolean);
}

export function requestFromFlags(ctx: CommandContext): BuildRequest {
  const o = (ctx.options ?? {}) as Partial<IpxeBuilderOptions>;
  const raw: Record<string, unknown> = { target: ctx.flags.target };
  if (ctx.flags.name !== undefined) raw.name = ctx.flags.name;
  const features = listFlag(ctx.flags.feature);
  if (features.length) raw.features = features;
  if (ctx.flags.embed === false) raw.embed = false;
  else {
    const embed: Record<string, unknown> = {};
    if (ctx.flags.embedServer !== undefined) embed.server = ctx.flags.embedServer;
    if (ctx.flags.embedPort !== undefined) embed.port = ctx.flags.embedPort;
    if (ctx.flags.embedScheme !== undefined) embed.scheme = ctx.flags.embedScheme;
    if (Object.keys(embed).length) raw.embed = embed;
  }
  return parseBuildRequest(raw, o.embed ?? {});
}

export async function runBuild(ctx: CommandContext, io: CliIo): Promise<number> {
  const req = requestFromFlags(ctx);
  const c = client(ctx);
  const body: Record<string, unknown> = { target: req.target, features: req.features, embed: req.embed ?? false };
  if (req.name) body.name = req.name;
  let view = (await (await call(c, 'POST', '/api/v1/ipxe/builds', body)).json()) as JobView;
  ctx.print(`build ${view.id}: ${view.target}${view.cached ? ' (cached)' : ''} on the ${view.backend} backend`);
  let shown = -1;
  const show = () => {
    const pct = Math.round(view.progress * 100);
    if (io.isTty) io.progress(`\r${progressBar(view)}`);
    else if (pct >= shown + 10 || (view.status !== 'running' && view.status !== 'queued' && pct !== shown)) {
      io.progress(`${progressBar(view)}\n`);
      shown = pct;
    }
  };
  const deadline = Date.now() + Number(ctx.flags.waitTimeout ?? (ctx.options as Partial<IpxeBuilderOptions>)?.timeoutMs ?? 900_000) * 2;
  while (view.status === 'queued' || view.status === 'running') {
    show();
    if (Date.now() > deadline) throw new IpxeError(IpxeErrorCodes.CLI, 0, `build ${view.id} still ${view.status}: stopped waiting (it keeps running on the server)`);
    await new Promise((r) => setTimeout(r, io.pollMs));
    view = (await (await call(c, 'GET', `/api/v1/ipxe/builds/${view.id}`)).json()) as JobView;
  }
  show();
  if (io.isTty) io.progress('\n');
  if (view.status !== 'succeeded' || !view.artifact) {
    const log = logLinesFromSse(await (await call(c, 'GET', `/api/v1/ipxe/builds/${view.id}/log`)).text());
    ctx.print(`--- build log of ${view.id} (last ${Math.min(log.length, 200)} lines)`);
    for (const l of log.slice(-200)) ctx.print(l);
    ctx.print('--- end of build log');
    ctx.print(`build ${view.id} ${view.status}: ${view.error?.code ?? ''} ${view.error?.message ?? ''}`.trim());
    return 1;
  }
  const out = path.resolve(String(ctx.flags.out ?? view.artifact.file));
  const res = await call(c, 'GET', `/api/v1/ipxe/builds/${view.id}/artifact`);
  const data = Buffer.from(await res.arrayBuffer());
  await fs.promises.writeFile(out, data);
  ctx.print(`built ${view.target}: ${data.length} bytes, sha256 ${view.artifact.sha256} → ${out}`);
  for (const p of view.artifact.paths) ctx.print(`served to PXE clients (TFTP/HTTP) as ${p}`);
  return 0;
}

export const commands: PluginCommand[] = [
  {
    name: 'ipxe build',
    description: 'Build an iPXE binary on the running server (cached), with a progress bar; prints the build log on failure',
    flags: [
      ['--target <target>', 'bin/undionly.kpxe, bin-x86_64-efi/ipxe.efi, bin-x86_64-efi/snponly.efi or bin-arm64-efi/snp.efi'],
      ['--embed-server <host>', 'PureBoot server (IP or DNS name) the embedded script chains to (default: ipxe-builder.embed.server)'],
      ['--embed-port <port>', 'its HTTP port'],
      ['--embed-scheme <scheme>', 'http or https'],
      ['--no-embed', 'build a plain iPXE without an embedded script'],
      ['--feature <list>', `build-time features, comma-separated: ${FEATURE_NAMES.join(', ')}`],
      ['--name <name>', 'also publish the binary at <pathPrefix>/<name> for PXE clients'],
      ['--out <file>', 'where to write the binary (default: its file name in the current folder)'],
      ['--url <url>', 'boot API URL (default: from the config)'],
      ['--token <token>', 'API token (default: boot-api.token or <dataDir>/boot-api.token)'],
    ],
    async run(ctx) {
      if (typeof ctx.flags.target !== 'string') throw new IpxeError(IpxeErrorCodes.INVALID_INPUT, 400, '--target is required');
      return runBuild(ctx, { progress: (t) => process.stderr.write(t), isTty: process.stderr.isTTY === true, pollMs: 500 });
    },
  },
];
