import { execFile, execFileSync, type SpawnOptions } from 'node:child_process';
import crypto from 'node:crypto';
import { startProcess, type RunningProcess } from './spawn';

/**
 * Network namespaces for real-client tests. Every namespace, link and process a lab creates is
 * removed by `destroy()` (and, as a last resort, when the test process exits). Addresses must come
 * from 198.18.0.0/15 (the benchmarking range); `assertTestAddress` enforces it.
 */
const liveLabs = new Set<NetLab>();
process.on('exit', () => {
  for (const lab of liveLabs) lab.destroySync();
});

export function assertTestAddress(cidr: string): void {
  const ip = cidr.split('/')[0];
  const [a, b] = ip.split('.').map(Number);
  if (!(a === 198 && (b === 18 || b === 19))) throw new Error(`test addresses must be inside 198.18.0.0/15, got ${cidr}`);
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class NetLab {
  readonly id = `pb${crypto.randomBytes(3).toString('hex')}`;
  private readonly namespaces: string[] = [];
  private readonly processes: RunningProcess[] = [];

  constructor() {
    liveLabs.add(this);
  }

  /** Full name of a namespace of this lab. */
  ns(name: string): string {
    return `${this.id}-${name}`;
  }

  async addNamespace(name: string): Promise<string> {
    const full = this.ns(name);
    await run('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** A veth pair between two namespaces of this lab, each end with an address (or none). */
  async veth(a: { ns: string; ifname: string; cidr?: string }, b: { ns: string; ifname: string; cidr?: string }): Promise<void> {
    const tmpA = `${this.id}a${crypto.randomBytes(2).toString('hex')}`.slice(0, 15);
    const tmpB = `${this.id}b${crypto.randomBytes(2).toString('hex')}`.slice(0, 15);
    await run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    try {
      await run('ip', ['link', 'set', tmpA, 'netns', this.ns(a.ns)]);
      await run('ip', ['link', 'set', tmpB, 'netns', this.ns(b.ns)]);
    } catch (err) {
      await run('ip', ['link', 'del', tmpA]).catch(() => undefined);
      throw err;
    }
    for (const [end, tmp] of [
      [a, tmpA],
      [b, tmpB],
    ] as const) {
      await this.exec(end.ns, ['ip', 'link', 'set', tmp, 'name', end.ifname]);
      if (end.cidr) {
        assertTestAddress(end.cidr);
        await this.exec(end.ns, ['ip', 'addr', 'add', end.cidr, 'dev', end.ifname]);
      }
      await this.exec(end.ns, ['ip', 'link', 'set', end.ifname, 'up']);
    }
  }

  /** A bridge inside a namespace (for QEMU taps and several peers on one segment). */
  async bridge(ns: string, name: string, cidr?: string): Promise<void> {
    await this.exec(ns, ['ip', 'link', 'add', name, 'type', 'bridge']);
    if (cidr) {
      assertTestAddress(cidr);
      await this.exec(ns, ['ip', 'addr', 'add', cidr, 'dev', name]);
    }
    await this.exec(ns, ['ip', 'link', 'set', name, 'up']);
  }

  /** Run a command inside a namespace and wait for it (bounded). Rejects on a non-zero exit unless allowFail. */
  exec(ns: string, argv: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.ns(ns), ...argv], opts);
  }

  /** Start a long-running process inside a namespace; it is killed by destroy(). */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): RunningProcess {
    const p = startProcess(['ip', 'netns', 'exec', this.ns(ns), ...argv], opts);
    this.processes.push(p);
    return p;
  }

  async destroy(): Promise<void> {
    for (const p of this.processes.splice(0)) await p.stop('SIGTERM', 3000).catch(() => undefined);
    for (const ns of this.namespaces.splice(0).reverse()) {
      await killAllIn(ns);
      await run('ip', ['netns', 'del', ns], { allowFail: true });
    }
    liveLabs.delete(this);
  }

  /** Synchronous last-resort cleanup (process exit). */
  destroySync(): void {
    for (const p of this.processes.splice(0)) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns]).toString().split(/\s+/).filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* ignore */
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* ignore */
      }
    }
    liveLabs.delete(this);
  }
}

/** Kill, by PID, every process still inside a namespace this lab made. */
async function killAllIn(ns: string): Promise<void> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFail: true });
  for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as unknown as { code?: unknown }).code ?? 1 : 0;
      const result = { code: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) };
      if (err && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')} failed (${err.message}): ${stderr}`));
      else resolve(result);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
