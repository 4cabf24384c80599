import type { HookName } from '../hooks/create-hooks';
import type { LogLevel } from '../logger';

export type PluginEntry = string | { name: string; enabled?: boolean };

/** The core's own part of the configuration (docs/configuration.md). */
export interface CoreConfig {
  /** Plugins by short name (`tftp`), package name or local path. Options live under each short name. */
  plugins: PluginEntry[];
  /** When two plugins provide one service: service name → the short name of the plugin that wins. */
  services: Record<string, string>;
  server: {
    /** Where plugins keep state (leases, journals, build artifacts). Relative to the config file. */
    dataDir: string;
    logLevel: LogLevel;
    /** How long in-flight work may take on SIGINT/SIGTERM before PureBoot exits anyway. */
    shutdownGraceMs: number;
  };
  hooks: {
    /** Deadline for every async tap, in ms. */
    deadlineMs: number;
    /** Per-hook deadlines that override `deadlineMs`. */
    deadlines: Partial<Record<HookName, number>>;
  };
  files: {
    /** Static root served by the built-in fileResolve tap (TFTP and HTTP). Relative to the config file. */
    root: string;
  };
}

export interface ConfigMeta {
  /** The file the config came from; undefined for inline configs. */
  file?: string;
  /** Folder relative paths resolve against. */
  dir: string;
  /** Keys set from PUREBOOT_… environment variables: key path → variable name. */
  fromEnv: Record<string, string>;
}

/** The validated configuration with defaults applied; plugin options under their short names. */
export type ResolvedConfig = CoreConfig & { readonly [pluginKey: string]: unknown } & { readonly meta: ConfigMeta };
