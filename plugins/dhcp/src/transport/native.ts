import fs from 'node:fs';
import type dgram from 'node:dgram';
import koffi from 'koffi';

/**
 * The two socket operations Node's dgram does not offer, through libc via koffi:
 * SO_BINDTODEVICE (answer a direct client on the interface its request came in on) and setns
 * (open the sockets inside another network namespace, e.g. a provisioning namespace).
 */
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const CLONE_NEWNET = 0x40000000;

interface Libc {
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  setns(fd: number, nstype: number): number;
}

let libc: Libc | undefined;
function load(): Libc {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as Libc['setsockopt'],
      setns: lib.func('int setns(int fd, int nstype)') as Libc['setns'],
    };
  }
  return libc;
}

function errnoError(call: string): NodeJS.ErrnoException {
  const errno = koffi.errno();
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 19: 'ENODEV', 22: 'EINVAL' };
  const err = new Error(`${call} failed: errno ${errno}${names[errno] ? ` (${names[errno]})` : ''}`) as NodeJS.ErrnoException;
  err.errno = errno;
  err.code = names[errno] ?? `E${errno}`;
  return err;
}

/** The file descriptor of a bound dgram socket (Node keeps it on its internal handle). */
export function socketFd(socket: dgram.Socket): number {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym] : undefined;
  const fd = state?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor yet (bind it first)');
  return fd;
}

export function bindToDevice(socket: dgram.Socket, ifname: string): void {
  const name = Buffer.from(`${ifname}\0`, 'latin1');
  if (load().setsockopt(socketFd(socket), SOL_SOCKET, SO_BINDTODEVICE, name, name.length) !== 0) throw errnoError(`setsockopt(SO_BINDTODEVICE, ${ifname})`);
}

/**
 * Run `fn` synchronously with this thread inside the network namespace `ns` (a name under
 * /var/run/netns or a path), then switch back. Sockets created by `fn` stay in that namespace.
 */
export function inNetns<T>(ns: string, fn: () => T): T {
  const path = ns.includes('/') ? ns : `/var/run/netns/${ns}`;
  const own = fs.openSync('/proc/thread-self/ns/net', 'r');
  let target: number | undefined;
  try {
    target = fs.openSync(path, 'r');
    const c = load();
    if (c.setns(target, CLONE_NEWNET) !== 0) throw errnoError(`setns(${path})`);
    try {
      return fn();
    } finally {
      if (c.setns(own, CLONE_NEWNET) !== 0) {
        // Staying in the wrong namespace would be silently wrong for every later socket.
        throw errnoError('setns(back to the original namespace)');
      }
    }
  } finally {
    if (target !== undefined) fs.closeSync(target);
    fs.closeSync(own);
  }
}
