import { Command } from 'commander';
import { loadDeployment } from '../deployment';
import { CORE_VERSION } from '../version';
import { addConfigCommands } from './commands/config';
import { addPluginsCommand } from './commands/plugins';
import { addStartCommand } from './commands/start';
import { reportError } from './output';

const CORE_COMMANDS = new Set(['start', 'config', 'plugins', 'help']);

/** Find `--config FILE` / `-c FILE` / `--config=FILE` in raw argv (plugin commands need the config first). */
function configFromArgv(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a === '--config' || a === '-c') && args[i + 1]) return args[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

export function buildProgram(): Command {
  const program = new Command('pureboot');
  program.description('PureBoot: network boot for bare-metal fleets (DHCP, proxy DHCP, TFTP, HTTP boot API)').version(CORE_VERSION, '-v, --version');
  addStartCommand(program);
  addConfigCommands(program);
  addPluginsCommand(program);
  return program;
}

/**
 * Add the commands of the configured plugins (`leases list`, `nodes show`, `ipxe build` …).
 * Each plugin command gets the resolved config and its plugin's options.
 */
async function addPluginCommands(program: Command, args: string[], required: boolean): Promise<void> {
  let deployment;
  try {
    deployment = await loadDeployment({ configFile: configFromArgv(args) });
  } catch (err) {
    if (required) throw err;
    return;
  }
  for (const p of deployment.plugins) {
    for (const cmd of p.definition.commands ?? []) {
      const words = cmd.name.split(' ');
      let parent = program;
      for (const w of words.slice(0, -1)) {
        parent = parent.commands.find((c) => c.name() === w) ?? parent.command(w).description(`${w} commands`);
      }
      const c = parent.command(`${words[words.length - 1]}${cmd.args ? ` ${cmd.args}` : ''}`).description(cmd.description);
      c.option('-c, --config <file>', 'config file (skips the search)');
      for (const [flags, description, def] of cmd.flags ?? []) c.option(flags, description, def);
      c.action(async (...actionArgs: unknown[]) => {
        const command = actionArgs[actionArgs.length - 1] as Command;
        const positional = command.args;
        try {
          const code = await cmd.run({
            args: positional,
            flags: command.opts(),
            config: deployment.config,
            options: deployment.config[p.key],
            print: (line) => process.stdout.write(`${line}\n`),
          });
          if (typeof code === 'number') process.exitCode = code;
        } catch (err) {
          process.exitCode = reportError(err);
        }
      });
    }
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  const wantsPluginCommand = first !== undefined && !CORE_COMMANDS.has(first);
  try {
    if (wantsPluginCommand || args.includes('--help') || args.includes('-h') || args.length === 0) {
      await addPluginCommands(program, args, wantsPluginCommand);
    }
  } catch (err) {
    process.exitCode = reportError(err);
    return;
  }
  program.showHelpAfterError();
  await program.parseAsync(argv);
}

if (require.main === module) {
  void main();
}
