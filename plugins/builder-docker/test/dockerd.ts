import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';

/**
 * A private Docker engine for the tests (../../../shared/TESTBED.md): its own socket, data root and
 * exec root under /tmp, started here and stopped by PID.
 */
export interface TestDockerd {
  socketPath: string;
  docker: Docker;
  stop(): Promise<void>;
}

const BASE = '/tmp/pb-dockerd';

export async function startDockerd(timeoutMs = 30_000): Promise<TestDockerd> {
  const socketPath = `${BASE}.sock`;
  const pidFile = `${BASE}.pid`;
  // A daemon a crashed earlier run left behind (our pid file, our command line) is stopped first.
  try {
    const old = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (old > 0 && fs.readFileSync(`/proc/${old}/cmdline`, 'utf8').includes(socketPath)) {
      process.kill(old, 'SIGTERM');
      await waitGone(old, 15_000);
    }
  } catch {
    /* no stale daemon */
  }
  const log = fs.openSync(path.join(os.tmpdir(), 'pb-dockerd.log'), 'w');
  const child: ChildProcess = spawn('dockerd', ['--host', `unix://${socketPath}`, '--data-root', `${BASE}-root`, '--exec-root', `${BASE}-exec`, '--pidfile', pidFile, '--iptables=false', '--bridge=none'], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));
  const docker = new Docker({ socketPath });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await docker.ping();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`dockerd did not come up within ${timeoutMs} ms:\n${fs.readFileSync(path.join(os.tmpdir(), 'pb-dockerd.log'), 'utf8').slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    socketPath,
    docker,
    async stop() {
      if (child.pid && !exited) {
        child.kill('SIGTERM');
        if (!(await waitGone(child.pid, 20_000))) child.kill('SIGKILL');
        await waitGone(child.pid, 5_000);
      }
      fs.rmSync(path.join(os.tmpdir(), 'pb-dockerd.log'), { force: true });
      for (const d of [`${BASE}-exec`, `${BASE}-root`]) {
        try {
          execFileSync('rm', ['-rf', '--one-file-system', d], { stdio: 'ignore' });
        } catch {
          /* a mount still busy: left for the next run, which reuses it */
        }
      }
    },
  };
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * A base image made locally (no registry here): a busybox-static root filesystem plus the host's make
 * and the libraries it needs, imported with the Engine API (what `docker import` does).
 */
export async function importBaseImage(docker: Docker, repo: string, tag: string): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-rootfs-'));
  try {
    for (const d of ['bin', 'usr/bin', 'tmp', 'etc']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', a));
    const make = execFileSync('sh', ['-c', 'command -v make'], { encoding: 'utf8' }).trim();
    fs.copyFileSync(make, path.join(root, 'usr/bin/make'));
    fs.chmodSync(path.join(root, 'usr/bin/make'), 0o755);
    for (const m of execFileSync('ldd', [make], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g)) {
      const lib = m[1];
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(lib), path.join(root, lib));
    }
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.importImage(tar.stdout as unknown as string, { repo, tag });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
