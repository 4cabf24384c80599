import fs from 'node:fs';
import path from 'node:path';
import { asValue, createContainer, InjectionMode, type AwilixContainer, type Resolver } from 'awilix';
import { Registry } from 'prom-client';
import type pino from 'pino';
import { systemClock, type Clock } from './clock';
import { loadDeployment, type Deployment, type DeploymentOptions } from './deployment';
import { CoreErrorCodes, PurebootError } from './errors';
import { createHooks, HOOK_NAMES, type HookName, type PurebootHooks } from './hooks/create-hooks';
import { Stage } from './hooks/stages';
import { createLogger, type Logger } from './logger';
import { StaticRoot } from './files/static-root';
import type { ResolvedConfig } from './config/types';
import type { ApplyContext, PluginDefinition, RegisterContext } from './plugin/definition';
import type { ResolvedPlugin } from './plugin/resolve';
import { CONTRACT_PROVIDERS, type Services } from './services';

export interface PurebootOptions extends DeploymentOptions {
  /** Use an already loaded deployment instead of loading one. */
  deployment?: Deployment;
  clock?: Clock;
  logger?: Logger;
  logDestination?: pino.DestinationStream;
}

export interface LoadedPlugin {
  key: string;
  name: string;
  version?: string;
  modulePath: string;
  definition: PluginDefinition<unknown>;
  options: unknown;
  /** Services this plugin registered (and won). */
  provides: string[];
}

export interface TapInfo {
  name: string;
  stage: number;
  type: string;
}

const CORE_SERVICES = ['config', 'logger', 'hooks', 'clock', 'metrics', 'staticFiles'];

/**
 * The PureBoot kernel: one deployment's container, hooks and plugins.
 * `create` loads, registers and applies; `start` and `stop` run the plugins' lifecycle.
 */
export class Pureboot {
  readonly container: AwilixContainer<Services>;
  readonly hooks: PurebootHooks;
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly plugins: LoadedPlugin[] = [];
  readonly warnings: string[] = [];
  private readonly startFns = new Map<string, Array<() => Promise<void> | void>>();
  private readonly stopFns = new Map<string, Array<() => Promise<void> | void>>();
  private started: string[] = [];
  private stopping: Promise<{ timedOut: boolean }> | undefined;

  private constructor(deployment: Deployment, opts: PurebootOptions) {
    this.config = deployment.config;
    this.logger = opts.logger ?? createLogger(this.config.server.logLevel, opts.logDestination);
    this.hooks = createHooks({ logger: this.logger, deadlines: { default: this.config.hooks.deadlineMs, ...this.config.hooks.deadlines } });
    this.container = createContainer<Services>({ injectionMode: InjectionMode.PROXY, strict: true });
    const staticFiles = new StaticRoot(this.config.files.root);
    this.container.register({
      config: asValue(this.config),
      logger: asValue(this.logger),
      hooks: asValue(this.hooks),
      clock: asValue(opts.clock ?? systemClock),
      metrics: asValue(new Registry()),
      staticFiles: asValue(staticFiles) as Resolver<never>,
    } as Record<string, Resolver<unknown>>);
    // The built-in static-root resolver: a late tap that any plugin pre-empts.
    this.hooks.fileResolve.tap({ name: 'core:static-root', stage: Stage.BUILTIN }, (req) => staticFiles.resolveSync(req));
  }

  /** Load the deployment, register every plugin's services, then apply every plugin's taps. */
  static async create(opts: PurebootOptions = {}): Promise<Pureboot> {
    const deployment = opts.deployment ?? (await loadDeployment(opts));
    const kernel = new Pureboot(deployment, opts);
    kernel.registerAll(deployment.plugins);
    await kernel.applyAll();
    return kernel;
  }

  get services(): Services {
    return this.container.cradle;
  }

  private registerAll(resolved: ResolvedPlugin[]): void {
    const offers = new Map<string, Array<{ plugin: string; resolver: Resolver<unknown> }>>();
    for (const r of resolved) {
      const options = this.config[r.key];
      const loaded: LoadedPlugin = { key: r.key, name: r.definition.name, version: r.packageVersion, modulePath: r.modulePath, definition: r.definition, options, provides: [] };
      this.plugins.push(loaded);
      const ctx: RegisterContext<unknown> = {
        options,
        config: this.config,
        logger: this.logger.child({ plugin: r.key }),
        provide: (name, resolver) => {
          const list = offers.get(name) ?? [];
          list.push({ plugin: r.key, resolver: resolver as Resolver<unknown> });
          offers.set(name, list);
        },
      };
      try {
        r.definition.register?.(ctx);
      } catch (err) {
        throw wrap(err, CoreErrorCodes.PLUGIN_REGISTER, `plugin "${r.key}" failed in register()`);
      }
    }
    for (const [name, list] of offers) {
      if (CORE_SERVICES.includes(name)) {
        throw new PurebootError(CoreErrorCodes.SERVICE_CONFLICT, `service "${name}" is provided by core and by plugin "${list[0].plugin}"; a plugin cannot replace a core service`, { service: name });
      }
      let winner = list[0];
      if (list.length > 1) {
        const choice = this.config.services[name];
        if (!choice) {
          throw new PurebootError(
            CoreErrorCodes.SERVICE_CONFLICT,
            `service "${name}" is provided by plugins ${list.map((o) => `"${o.plugin}"`).join(' and ')}; choose one in the config: services: { ${name}: ${list[0].plugin} }`,
            { service: name, plugins: list.map((o) => o.plugin) },
          );
        }
        const chosen = list.find((o) => o.plugin === choice);
        if (!chosen) {
          throw new PurebootError(CoreErrorCodes.SERVICE_CHOICE, `services.${name}: plugin "${choice}" does not provide "${name}" (provided by ${list.map((o) => o.plugin).join(', ')})`, { service: name });
        }
        winner = chosen;
      }
      this.container.register(name, winner.resolver);
      this.plugins.find((p) => p.key === winner.plugin)?.provides.push(name);
    }
    for (const p of this.plugins) {
      for (const need of p.definition.requires ?? []) {
        if (!this.container.hasRegistration(need)) {
          const hint = CONTRACT_PROVIDERS[need] ? ` (for example ${CONTRACT_PROVIDERS[need]})` : '';
          throw new PurebootError(CoreErrorCodes.SERVICE_MISSING, `plugin "${p.key}" requires service "${need}", which no loaded plugin provides; add a plugin that provides it${hint} to plugins`, {
            plugin: p.key,
            service: need,
          });
        }
      }
    }
    for (const p of this.plugins) {
      try {
        this.warnings.push(...(p.definition.check?.({ options: p.options, config: this.config, plugins: this.plugins.map((x) => x.key) }) ?? []).map((w) => `${p.key}: ${w}`));
      } catch (err) {
        throw wrap(err, CoreErrorCodes.PLUGIN_REGISTER, `plugin "${p.key}" failed in check()`);
      }
    }
  }

  private async applyAll(): Promise<void> {
    for (const p of this.plugins) {
      const ctx: ApplyContext<unknown> = {
        name: p.key,
        options: p.options,
        config: this.config,
        hooks: this.hooks,
        services: this.container.cradle,
        logger: this.logger.child({ plugin: p.key }),
        resolvePath: (x) => path.resolve(this.config.meta.dir, x),
        onStart: (fn) => this.startFns.set(p.key, [...(this.startFns.get(p.key) ?? []), fn]),
        onStop: (fn) => this.stopFns.set(p.key, [...(this.stopFns.get(p.key) ?? []), fn]),
      };
      try {
        await p.definition.apply?.(ctx);
      } catch (err) {
        throw wrap(err, CoreErrorCodes.PLUGIN_APPLY, `plugin "${p.key}" failed in apply()`);
      }
    }
  }

  /** Start plugins in dependency order. On failure, the ones already started are stopped again. */
  async start(): Promise<void> {
    await fs.promises.mkdir(this.config.server.dataDir, { recursive: true });
    for (const w of this.warnings) this.logger.warn(w);
    for (const p of this.plugins) {
      try {
        for (const fn of this.startFns.get(p.key) ?? []) await fn();
        this.started.push(p.key);
      } catch (err) {
        this.started.push(p.key); // its partial start may hold resources: let its stop run too
        await this.stop(`plugin "${p.key}" failed to start`);
        throw wrap(err, CoreErrorCodes.PLUGIN_START, `plugin "${p.key}" failed to start`);
      }
    }
    await this.hooks.started.promise({ plugins: this.plugins.map((p) => p.key) });
    this.logger.info({ plugins: this.plugins.map((p) => p.key) }, 'PureBoot started');
  }

  /**
   * Stop plugins in reverse order within `server.shutdownGraceMs`. Work still running after the grace
   * period is abandoned (logged as PB_ERR_SHUTDOWN_TIMEOUT). Safe to call more than once.
   */
  stop(reason = 'stop requested'): Promise<{ timedOut: boolean }> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<{ timedOut: boolean }> {
    const grace = this.config.server.shutdownGraceMs;
    const work = (async () => {
      try {
        await this.hooks.stopping.promise({ reason });
      } catch (err) {
        this.logger.error({ err }, 'a stopping observer failed');
      }
      for (const key of [...this.started].reverse()) {
        for (const fn of [...(this.stopFns.get(key) ?? [])].reverse()) {
          try {
            await fn();
          } catch (err) {
            this.logger.error({ err, code: CoreErrorCodes.PLUGIN_STOP, plugin: key }, `plugin "${key}" failed to stop cleanly`);
          }
        }
      }
      this.started = [];
      await this.container.dispose();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      work.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), grace);
      }),
    ]);
    if (timer) clearTimeout(timer);
    if (timedOut) this.logger.warn({ code: CoreErrorCodes.SHUTDOWN_TIMEOUT, graceMs: grace }, `shutdown took longer than ${grace} ms; abandoning unfinished work`);
    else this.logger.info({ reason }, 'PureBoot stopped');
    return { timedOut };
  }

  /** The taps of every hook, for `pureboot plugins` and explain. */
  hookTaps(): Record<HookName, TapInfo[]> {
    const out = {} as Record<HookName, TapInfo[]>;
    for (const name of HOOK_NAMES) {
      const taps = (this.hooks[name] as unknown as { taps: Array<{ name: string; stage?: number; type: string }> }).taps;
      out[name] = taps.map((t) => ({ name: t.name, stage: t.stage ?? 0, type: t.type }));
    }
    return out;
  }
}

/** Keep a PurebootError's own code (it says more); give anything else the step's code. */
function wrap(err: unknown, code: string, message: string): Error {
  if (err instanceof PurebootError) return err;
  return new PurebootError(code, `${message}: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
}
