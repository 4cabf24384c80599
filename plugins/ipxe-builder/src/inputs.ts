import net from 'node:net';
import { IPXE_TARGETS, isIpxeTarget, type IpxeTarget } from '@pureboot/core';
import { FEATURE_NAMES, isFeature, type FeatureName } from './features';
import { invalid } from './errors';

/**
 * Validation of everything a build request (API body, CLI flags, configured builds) carries. Every
 * value is checked against an allow-list or a strict pattern and rebuilt from what matched, so nothing
 * a request sends reaches a make variable, a file name, a shell or the embedded script unchecked.
 */

export type Fallback = 'shell' | 'reboot' | 'retry';
export const FALLBACKS: readonly Fallback[] = ['shell', 'reboot', 'retry'];

export interface EmbedSpec {
  /** IPv4, IPv6 or DNS host name of this PureBoot server as the machines reach it. */
  server: string;
  port: number;
  scheme: 'http' | 'https';
  /** Path of the chain script on that server. */
  chainPath: string;
  /** DHCP attempts before the fallback. */
  dhcpRetries: number;
  /** Attempts to fetch the chain script before the fallback. */
  chainRetries: number;
  /** Also wait for boot information (next-server or filename, e.g. from proxy DHCP), not just an address. */
  requireBootInfo: boolean;
  fallback: Fallback;
}

export interface BuildRequest {
  target: IpxeTarget;
  /** Publish the artifact at `<pathPrefix>/<name>` (TFTP/HTTP through fileResolve). */
  name?: string;
  /** Absent: a plain iPXE without embedded script. */
  embed?: EmbedSpec;
  features: FeatureName[];
}

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,40}(?:\.[A-Za-z0-9_-]{1,16}){0,3}$/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const CHAIN_PATH_RE = /^(?:\/[A-Za-z0-9._~-]+)+$/;

/** An IP address or DNS host name, in the form it takes inside a URL; throws PB_ERR_IPXE_INVALID_INPUT. */
export function checkServer(v: unknown): { host: string; urlHost: string } {
  if (typeof v !== 'string' || v.length === 0 || v.length > 253) throw invalid('embed.server must be an IP address or a DNS host name');
  if (IPV4.test(v)) return { host: v, urlHost: v };
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if (net.isIPv6(bare) && /^[0-9A-Fa-f:.]+$/.test(bare)) return { host: bare, urlHost: `[${bare.toLowerCase()}]` };
  const labels = v.replace(/\.$/, '').split('.');
  if (labels.every((l) => HOST_LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1])) return { host: v.toLowerCase(), urlHost: v.toLowerCase() };
  throw invalid(`embed.server ${JSON.stringify(v)} is neither an IP address nor a DNS host name`);
}

function int(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw invalid(`${what} must be an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(v: unknown, what: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw invalid(`${what} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw invalid(`${what} must be true or false`);
  return v;
}

function plainObject(v: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be an object`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw invalid(`${what} has an unknown property ${JSON.stringify(k)} (allowed: ${keys.join(', ')})`);
  return v as Record<string, unknown>;
}

export const EMBED_KEYS = ['server', 'port', 'scheme', 'chainPath', 'dhcpRetries', 'chainRetries', 'requireBootInfo', 'fallback'] as const;
const REQUEST_KEYS = ['target', 'name', 'embed', 'features'] as const;

export const EMBED_DEFAULTS: Omit<EmbedSpec, 'server'> = {
  port: 8080,
  scheme: 'http',
  chainPath: '/api/v1/ipxe/boot.ipxe',
  dhcpRetries: 10,
  chainRetries: 5,
  requireBootInfo: false,
  fallback: 'shell',
};

/** Validate embed settings; missing ones come from `defaults` (the plugin's `embed` option). */
export function parseEmbed(raw: unknown, defaults: Partial<EmbedSpec> = {}): EmbedSpec {
  const o = plainObject(raw, 'embed', EMBED_KEYS);
  const d = { ...EMBED_DEFAULTS, ...defaults };
  const server = o.server ?? d.server;
  if (server === undefined) throw invalid('embed.server is required (or set ipxe-builder.embed.server in the config)');
  const chainPath = o.chainPath ?? d.chainPath;
  if (typeof chainPath !== 'string' || !CHAIN_PATH_RE.test(chainPath) || chainPath.split('/').some((s) => s === '..' || s === '.')) {
    throw invalid('embed.chainPath must be an absolute URL path of letters, digits and . _ ~ - segments');
  }
  return {
    server: checkServer(server).host,
    port: int(o.port ?? d.port, 'embed.port', 1, 65535),
    scheme: oneOf(o.scheme ?? d.scheme, 'embed.scheme', ['http', 'https'] as const),
    chainPath,
    dhcpRetries: int(o.dhcpRetries ?? d.dhcpRetries, 'embed.dhcpRetries', 1, 1000),
    chainRetries: int(o.chainRetries ?? d.chainRetries, 'embed.chainRetries', 1, 1000),
    requireBootInfo: bool(o.requireBootInfo ?? d.requireBootInfo, 'embed.requireBootInfo'),
    fallback: oneOf(o.fallback ?? d.fallback, 'embed.fallback', FALLBACKS),
  };
}

/**
 * Validate a build request. `embed: false` asks for no embedded script; an absent `embed` gets one
 * when the plugin has a default server (`ipxe-builder.embed.server`).
 */
export function parseBuildRequest(raw: unknown, embedDefaults: Partial<EmbedSpec> = {}): BuildRequest {
  const o = plainObject(raw, 'build request', REQUEST_KEYS);
  if (!isIpxeTarget(o.target)) throw invalid(`target must be one of ${IPXE_TARGETS.join(', ')}`);
  const req: BuildRequest = { target: o.target, features: [] };
  if (o.name !== undefined) {
    if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) throw invalid('name must be letters, digits, _ and - with up to three .extensions (e.g. undionly.kpxe)');
    req.name = o.name;
  }
  if (o.features !== undefined) {
    if (!Array.isArray(o.features) || o.features.length > FEATURE_NAMES.length) throw invalid('features must be a list');
    for (const f of o.features) if (!isFeature(f)) throw invalid(`feature ${JSON.stringify(f)} is not one of ${FEATURE_NAMES.join(', ')}`);
    req.features = [...new Set(o.features as FeatureName[])].sort();
  }
  if (o.embed === false) return req;
  if (o.embed === undefined && embedDefaults.server === undefined) return req;
  req.embed = parseEmbed(o.embed ?? {}, embedDefaults);
  return req;
}
