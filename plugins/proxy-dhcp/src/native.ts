import fs from 'node:fs';
import os from 'node:os';
import type dgram from 'node:dgram';
import koffi from 'koffi';

/**
 * IP_UNICAST_IF (Linux, <linux/in.h>): the output interface for a socket's non-multicast sends,
 * including the limited broadcast 255.255.255.255, without binding the socket to a device for
 * receiving (SO_BINDTODEVICE would make our port-67 socket tie with, and take unicasts from, a
 * site DHCP server bound to the same interface). Node's dgram has no such option: libc via koffi.
 */
const IPPROTO_IP = 0;
const IP_UNICAST_IF = 50;

type SetSockOpt = (fd: number, level: number, name: number, value: Buffer, len: number) => number;
let setsockopt: SetSockOpt | undefined;

function libc(): SetSockOpt {
  setsockopt ??= koffi.load('libc.so.6').func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as SetSockOpt;
  return setsockopt;
}

/** The file descriptor of a bound dgram socket (Node keeps it on its internal handle). */
function socketFd(socket: dgram.Socket): number {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym] : undefined;
  const fd = state?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor yet (bind it first)');
  return fd;
}

/** Pin (ifindex > 0) or unpin (0) the output interface of a socket's unicast/broadcast sends. */
export function setUnicastInterface(socket: dgram.Socket, ifindex: number): void {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(ifindex); // IPv4 takes the index in network byte order
  if (libc()(socketFd(socket), IPPROTO_IP, IP_UNICAST_IF, v, 4) !== 0) {
    const errno = koffi.errno();
    const err = new Error(`setsockopt(IP_UNICAST_IF, ${ifindex}) failed: errno ${errno}`) as NodeJS.ErrnoException;
    err.errno = errno;
    throw err;
  }
}

/** Index of a network interface, or undefined when it does not exist here. */
export function interfaceIndex(name: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The interface that holds an IPv4 address, if any. */
export function interfaceOf(address: string, interfaces = os.networkInterfaces()): string | undefined {
  for (const [name, addrs] of Object.entries(interfaces)) if ((addrs ?? []).some((a) => a.family === 'IPv4' && a.address === address)) return name;
  return undefined;
}
