import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BootApiError, BootApiErrorCodes } from './errors';

export const TOKEN_FILE = 'boot-api.token';

/**
 * The API token: the configured one, else the one in `<dataDir>/boot-api.token`, else a new random
 * one written there (mode 0600). `generated` tells the caller to print it (once).
 */
export function loadOrCreateToken(configured: string | undefined, dataDir: string): { token: string; generated: boolean; file?: string } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return { token: existing, generated: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw tokenFileError(file, err);
  }
  const token = crypto.randomBytes(32).toString('base64url');
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: fs.readFileSync(file, 'utf8').trim(), generated: false, file };
    throw tokenFileError(file, err);
  }
  return { token, generated: true, file };
}

/** Read the token for the CLI (configured, else from the data dir); undefined when there is none. */
export function readToken(configured: string | undefined, dataDir: string): string | undefined {
  if (configured) return configured;
  try {
    return fs.readFileSync(path.join(dataDir, TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function tokenFileError(file: string, err: unknown): BootApiError {
  return new BootApiError(BootApiErrorCodes.TOKEN_FILE, 500, `${file}: cannot read or create the API token file: ${(err as Error).message}`, { file });
}

export function tokensEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** The per-machine callback token placed in install scripts: it only allows POST …/:mac/events for that MAC. */
export function callbackToken(apiToken: string, mac: string): string {
  return crypto.createHmac('sha256', apiToken).update(`pureboot-callback:${mac}`).digest('base64url').slice(0, 32);
}

/** The bearer token of an Authorization header, if any. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
