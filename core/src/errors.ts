/**
 * Stable error codes. Every code thrown or logged by PureBoot is a `PB_ERR_…` string
 * documented in docs/errors.md; a test keeps that document and the sources in step.
 */
export const CoreErrorCodes = Object.freeze({
  CONFIG_NOT_FOUND: 'PB_ERR_CONFIG_NOT_FOUND',
  CONFIG_PARSE: 'PB_ERR_CONFIG_PARSE',
  CONFIG_INVALID: 'PB_ERR_CONFIG_INVALID',
  PLUGIN_NOT_FOUND: 'PB_ERR_PLUGIN_NOT_FOUND',
  PLUGIN_LOAD: 'PB_ERR_PLUGIN_LOAD',
  PLUGIN_INVALID: 'PB_ERR_PLUGIN_INVALID',
  PLUGIN_CORE_VERSION: 'PB_ERR_PLUGIN_CORE_VERSION',
  PLUGIN_DEPENDENCY: 'PB_ERR_PLUGIN_DEPENDENCY',
  PLUGIN_CYCLE: 'PB_ERR_PLUGIN_CYCLE',
  PLUGIN_DUPLICATE: 'PB_ERR_PLUGIN_DUPLICATE',
  PLUGIN_REGISTER: 'PB_ERR_PLUGIN_REGISTER',
  PLUGIN_APPLY: 'PB_ERR_PLUGIN_APPLY',
  PLUGIN_START: 'PB_ERR_PLUGIN_START',
  PLUGIN_STOP: 'PB_ERR_PLUGIN_STOP',
  SERVICE_CONFLICT: 'PB_ERR_SERVICE_CONFLICT',
  SERVICE_MISSING: 'PB_ERR_SERVICE_MISSING',
  SERVICE_CHOICE: 'PB_ERR_SERVICE_CHOICE',
  HOOK_TIMEOUT: 'PB_ERR_HOOK_TIMEOUT',
  SHUTDOWN_TIMEOUT: 'PB_ERR_SHUTDOWN_TIMEOUT',
  PORT_PRIVILEGED: 'PB_ERR_PORT_PRIVILEGED',
  PORT_IN_USE: 'PB_ERR_PORT_IN_USE',
  ADDRESS_UNAVAILABLE: 'PB_ERR_ADDRESS_UNAVAILABLE',
  CLI_USAGE: 'PB_ERR_CLI_USAGE',
} as const);

export type CoreErrorCode = (typeof CoreErrorCodes)[keyof typeof CoreErrorCodes];

/** Base class of every error PureBoot raises on purpose. `code` is stable; `message` is for people. */
export class PurebootError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PurebootError';
    this.code = code;
    this.details = details;
  }
}

/** A mistake in the deployment's configuration. The CLI exits with EX_CONFIG (78) for these. */
export class ConfigError extends PurebootError {
  /** One readable line per problem: `file: key.path: what was expected`. */
  readonly problems: string[];
  constructor(code: string, message: string, problems: string[] = [], details: Record<string, unknown> = {}) {
    super(code, problems.length > 0 ? `${message}\n  - ${problems.join('\n  - ')}` : message, details);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const EXIT_CONFIG = 78;

export function isPurebootError(err: unknown): err is PurebootError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && (err as unknown as { code: string }).code.startsWith('PB_ERR_');
}
