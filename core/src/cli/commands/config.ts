import type { Command } from 'commander';
import YAML from 'yaml';
import { loadDeployment } from '../../deployment';
import { Pureboot } from '../../kernel';
import { buildConfigSchema } from '../../config/validate';
import { collect, parseSets, reportError } from '../output';

export function addConfigCommands(program: Command): void {
  const config = program.command('config').description('check and describe the configuration');
  config
    .command('check')
    .description('validate the config (core and every plugin) and print the resolved config with defaults')
    .option('-c, --config <file>', 'config file (skips the search)')
    .option('--set <key=value>', 'override one config value (repeatable)', collect, [])
    .option('--json', 'print JSON instead of YAML')
    .action(async (opts: { config?: string; set: string[]; json?: boolean }) => {
      try {
        const deployment = await loadDeployment({ configFile: opts.config, overrides: parseSets(opts.set) });
        const kernel = await Pureboot.create({ deployment, logger: silentLogger() });
        const out = opts.json ? JSON.stringify(deployment.config, null, 2) : YAML.stringify(deployment.config);
        process.stdout.write(`# ${deployment.config.meta.file ?? 'inline config'}: valid\n`);
        for (const w of kernel.warnings) process.stdout.write(`# warning: ${w}\n`);
        process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
  config
    .command('schema')
    .description('print the combined JSON schema (core + the configured plugins) for editors')
    .option('-c, --config <file>', 'config file whose plugins to include (default: search; core only when none)')
    .action(async (opts: { config?: string }) => {
      try {
        let schema;
        try {
          schema = (await loadDeployment({ configFile: opts.config })).schema;
        } catch (err) {
          if (opts.config || (err as { code?: string }).code !== 'PB_ERR_CONFIG_NOT_FOUND') throw err;
          schema = buildConfigSchema([]);
        }
        process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}

export function silentLogger() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pino = require('pino') as typeof import('pino');
  return pino.pino({ level: 'silent' });
}
