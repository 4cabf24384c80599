import type { FastifyBaseLogger } from 'fastify';

type LogFn = (...args: unknown[]) => void;

/**
 * `request.log` without a pino child logger per request: the child (with its reqId binding) is made the
 * first time the request logs. A boot request that logs nothing (the common case, with requestLogs
 * off) saves pino's child construction, about 1.5 µs of each script request.
 */
class LazyRequestLogger {
  private made?: FastifyBaseLogger;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly opts: object,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return this.made ? this.made.level : this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as LogFn)(...args);
  }
  error(...args: unknown[]): void {
    (this.real.error as LogFn)(...args);
  }
  warn(...args: unknown[]): void {
    (this.real.warn as LogFn)(...args);
  }
  info(...args: unknown[]): void {
    (this.real.info as LogFn)(...args);
  }
  debug(...args: unknown[]): void {
    (this.real.debug as LogFn)(...args);
  }
  trace(...args: unknown[]): void {
    (this.real.trace as LogFn)(...args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, opts?: object): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}

/** fastify's childLoggerFactory option: request loggers made on first use. */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: object, opts: object | undefined): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings as Record<string, unknown>, opts ?? {}) as unknown as FastifyBaseLogger;
}
