import { ConfigError, EXIT_CONFIG, isPurebootError } from '../errors';

/** Print an error for a person: code and message, no stack trace for errors PureBoot raised on purpose. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (isPurebootError(err)) {
    write(`pureboot: error ${err.code}: ${err.message}\n`);
    return err instanceof ConfigError ? EXIT_CONFIG : 1;
  }
  const e = err as Error;
  write(`pureboot: unexpected error: ${e?.stack ?? String(err)}\n`);
  return 1;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--set a.b=value` → override entries (value parsed as JSON when it parses). */
export function parseSets(sets: string[]): Array<{ path: string[]; value: unknown }> {
  return sets.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw new ConfigError('PB_ERR_CLI_USAGE', `--set expects key.path=value, got "${s}"`);
    const raw = s.slice(i + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* plain string */
    }
    return { path: s.slice(0, i).split('.'), value };
  });
}
