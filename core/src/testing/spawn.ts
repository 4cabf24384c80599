import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';

/** Node arguments that run workspace TypeScript sources (the same as .mocharc and bin/pureboot.js). */
export function tsNodeArgs(): string[] {
  return ['--conditions=pureboot-source', '--require', require.resolve('tsx/cjs')];
}

/** Path of the pureboot CLI entry in this checkout. */
export const PUREBOOT_CLI = path.resolve(__dirname, '..', 'cli', 'main.ts');

/** `node <ts flags> core/src/cli/main.ts …args` as argv, for spawn (also inside `ip netns exec`). */
export function purebootArgv(args: string[]): string[] {
  return [process.execPath, ...tsNodeArgs(), PUREBOOT_CLI, ...args];
}

export interface RunningProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when a line matching `re` appears on stdout or stderr (rejects after timeoutMs). */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  /** Send a signal and wait for exit (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn a process and collect its output; every wait is bounded. */
export function startProcess(argv: string[], opts: SpawnOptions = {}): RunningProcess {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    for (const l of listeners) l();
  });
  // Set before the listeners run, so a waitFor on a process that exits silently fails at once.
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
      for (const l of listeners) l();
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out) ?? re.exec(err);
          if (m) {
            cleanup();
            resolve(m[0]);
          } else if (exitedFlag) {
            cleanup();
            reject(new Error(`process exited before ${re} appeared\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (!exitedFlag) child.kill(signal);
      const timer = setTimeout(() => {
        if (!exitedFlag) child.kill('SIGKILL');
      }, timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Poll `fn` until it returns a truthy value; rejects after timeoutMs. */
export async function waitUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, intervalMs = 50, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
