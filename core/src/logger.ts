import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The core logger: JSON lines on stdout (pino). `destination` lets tests capture lines. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, base: { name: 'pureboot' } };
  return destination ? pino(options, destination) : pino(options);
}
