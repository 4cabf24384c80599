import fs from 'node:fs';
import path from 'node:path';
import { purebootArgv, type RunningProcess } from '@pureboot/core/testing';
import { REPO_ROOT } from './env';
import { NET, type CaseNetwork } from './network';

export const API_PORT = 8080;
export const API_BASE = `http://${NET.server}:${API_PORT}`;

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/**
 * The environment of the PureBoot child: the case's config file is the whole configuration, so no
 * PUREBOOT_* variable of the test run (PUREBOOT_E2E_*, a developer's overrides) reaches it.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PUREBOOT_')) env[k] = v;
  return env;
}

/**
 * PureBoot as a real process (`pureboot start --config FILE`, TypeScript sources through tsx) inside
 * the case's server namespace. The test process lives in the host namespace, so the management API
 * is reached with curl run inside the server namespace (no link into the host's network is made).
 */
export class PurebootProcess {
  readonly configFile: string;
  readonly logFile: string;
  private proc?: RunningProcess;

  constructor(
    private readonly net: CaseNetwork,
    private readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly token: string,
  ) {
    this.configFile = path.join(dir, 'pureboot.config.json');
    this.logFile = path.join(dir, 'pureboot.log');
  }

  async start(timeoutMs = 60000): Promise<void> {
    fs.writeFileSync(this.configFile, JSON.stringify(this.config, null, 2) + '\n');
    this.proc = this.net.lab.spawn(this.net.serverNs, purebootArgv(['start', '--config', this.configFile]), { cwd: REPO_ROOT, env: childEnv() });
    // Race the exit too: startProcess().waitFor notices an exit only when more output follows it.
    const proc = this.proc;
    await Promise.race([
      proc.waitFor(/PureBoot started/, timeoutMs),
      proc.exited.then(({ code, signal }) => {
        throw new Error(`PureBoot exited during start-up (code ${code}, signal ${signal}):\n${this.log()}`);
      }),
    ]);
    const deadline = Date.now() + 15000;
    for (;;) {
      const r = await this.request('GET', '/health').catch((err: Error) => ({ status: 0, text: err.message, body: undefined }));
      if (r.status === 200) return;
      if (Date.now() > deadline) throw new Error(`PureBoot started but /health did not answer 200 (last: ${r.status} ${r.text})\n${this.log()}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  running(): boolean {
    return !!this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Everything PureBoot wrote (pino JSON lines and CLI output). */
  log(): string {
    return this.proc ? this.proc.stdout() + this.proc.stderr() : '';
  }

  saveLog(): void {
    fs.writeFileSync(this.logFile, this.log());
  }

  async stop(): Promise<void> {
    if (this.proc) await this.proc.stop('SIGTERM', 5000);
    this.saveLog();
  }

  /** One HTTP request to the boot API from inside the server namespace (bounded to 10 s). */
  async request<T = unknown>(method: string, urlPath: string, body?: unknown, opts: { auth?: boolean } = {}): Promise<ApiResponse<T>> {
    const argv = ['curl', '-sS', '-m', '10', '-X', method, '-w', '\n%{http_code}'];
    if (opts.auth !== false) argv.push('-H', `authorization: Bearer ${this.token}`);
    if (body !== undefined) argv.push('-H', 'content-type: application/json', '--data-binary', '@-');
    argv.push(`${API_BASE}${urlPath}`);
    const r = await this.net.lab.exec(this.net.serverNs, argv, { timeoutMs: 15000, allowFail: true, input: body !== undefined ? JSON.stringify(body) : undefined });
    if (r.code !== 0) throw new Error(`curl ${method} ${urlPath} failed (exit ${r.code}): ${r.stderr.trim()}`);
    const nl = r.stdout.lastIndexOf('\n');
    const text = r.stdout.slice(0, nl);
    const status = Number(r.stdout.slice(nl + 1));
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (iPXE scripts) */
    }
    return { status, body: parsed as T, text };
  }

  /** Like request() but requires a 2xx answer. */
  async api<T = unknown>(method: string, urlPath: string, body?: unknown): Promise<T> {
    const r = await this.request<T>(method, urlPath, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${urlPath} → HTTP ${r.status}: ${r.text}`);
    return r.body;
  }
}
