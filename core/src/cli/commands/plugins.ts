import type { Command } from 'commander';
import { Pureboot } from '../../kernel';
import { HOOK_NAMES } from '../../hooks/create-hooks';
import { reportError } from '../output';
import { silentLogger } from './config';

export function addPluginsCommand(program: Command): void {
  program
    .command('plugins')
    .description('list the loaded plugins, the services they provide and their hook taps')
    .option('-c, --config <file>', 'config file (skips the search)')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      try {
        const kernel = await Pureboot.create({ configFile: opts.config, logger: silentLogger() });
        const taps = kernel.hookTaps();
        const rows = kernel.plugins.map((p) => ({
          plugin: p.key,
          package: p.name,
          version: p.version ?? '',
          provides: p.provides,
          taps: HOOK_NAMES.flatMap((h) => taps[h].filter((t) => t.name === p.key || t.name.startsWith(`${p.key}:`)).map((t) => `${h}@${t.stage}`)),
        }));
        const coreTaps = HOOK_NAMES.flatMap((h) => taps[h].filter((t) => t.name.startsWith('core:')).map((t) => `${h}@${t.stage} (${t.name})`));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ plugins: rows, core: coreTaps }, null, 2)}\n`);
          return;
        }
        for (const r of rows) {
          process.stdout.write(`${r.plugin}  ${r.package}${r.version ? `@${r.version}` : ''}\n`);
          process.stdout.write(`  provides: ${r.provides.join(', ') || '-'}\n`);
          process.stdout.write(`  taps:     ${r.taps.join(', ') || '-'}\n`);
        }
        process.stdout.write(`core taps: ${coreTaps.join(', ')}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
