import type { Command } from 'commander';
import { Pureboot } from '../../kernel';
import { CORE_VERSION } from '../../version';
import { collect, parseSets, reportError } from '../output';

export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('start PureBoot with the deployment config (SIGINT/SIGTERM stop it gracefully)')
    .option('-c, --config <file>', 'config file (skips the search)')
    .option('--set <key=value>', 'override one config value, e.g. --set server.logLevel=debug (repeatable)', collect, [])
    .action(async (opts: { config?: string; set: string[] }) => {
      let kernel: Pureboot;
      try {
        kernel = await Pureboot.create({ configFile: opts.config, overrides: parseSets(opts.set) });
        await kernel.start();
      } catch (err) {
        process.exitCode = reportError(err);
        return;
      }
      // Keep the process alive even when no plugin holds a socket (e.g. a config with only storage).
      const keepAlive = setInterval(() => undefined, 1 << 30);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) {
          process.stderr.write(`pureboot: second ${signal}, exiting now\n`);
          process.exit(130);
        }
        clearInterval(keepAlive);
        // Exit 0 either way: a shutdown that ran past the grace period is logged (PB_ERR_SHUTDOWN_TIMEOUT).
        void kernel.stop(`received ${signal}`).then(() => process.exit(0));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Announce only once the handlers are in place: a supervisor may signal as soon as it reads this.
      process.stderr.write(`PureBoot ${CORE_VERSION} running: plugins ${kernel.plugins.map((p) => p.key).join(', ') || '(none)'}; config ${kernel.config.meta.file ?? 'inline'}\n`);
    });
}
