// PureBoot with the DHCP plugin as a standalone process (the benchmark runs it inside a namespace,
// pinned to one core): node scripts/run-ts.js plugins/dhcp/bench/serve.ts <config.json>
import fs from 'node:fs';
import pino from 'pino';
import { Pureboot } from '@pureboot/core';

async function main(): Promise<void> {
  const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Record<string, unknown>;
  const k = await Pureboot.create({ config, configDir: process.cwd(), logger: pino({ level: 'warn' }) });
  await k.start();
  process.stdout.write('ready\n');
  const stop = () => {
    k.stop('signal').finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
