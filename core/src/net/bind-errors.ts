import { CoreErrorCodes, PurebootError } from '../errors';

/**
 * Turn a socket bind/listen failure into a coded error that says what to do, instead of a stack trace.
 */
export function bindError(err: unknown, what: { protocol: 'udp' | 'tcp'; address?: string; port: number; plugin: string; key?: string }): Error {
  const e = err as NodeJS.ErrnoException;
  const at = `${what.address ?? '0.0.0.0'}:${what.port}/${what.protocol}`;
  const key = what.key ?? `${what.plugin}.port`;
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return new PurebootError(
      CoreErrorCodes.PORT_PRIVILEGED,
      `${what.plugin}: cannot listen on ${at}: port ${what.port} needs privileges. Run PureBoot as root, or grant the capability once with ` +
        `"sudo setcap cap_net_bind_service,cap_net_raw=+ep $(command -v node)", or choose a port above 1023 with ${key}`,
      { ...what, errno: e.code },
      { cause: err },
    );
  }
  if (e.code === 'EADDRINUSE') {
    return new PurebootError(
      CoreErrorCodes.PORT_IN_USE,
      `${what.plugin}: cannot listen on ${at}: another program already uses it (stop it, or set ${key} to another port)`,
      { ...what, errno: e.code },
      { cause: err },
    );
  }
  if (e.code === 'EADDRNOTAVAIL') {
    return new PurebootError(
      CoreErrorCodes.ADDRESS_UNAVAILABLE,
      `${what.plugin}: cannot listen on ${at}: no interface of this host has address ${what.address}`,
      { ...what, errno: e.code },
      { cause: err },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
