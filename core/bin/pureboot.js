#!/usr/bin/env node
'use strict';
// The `pureboot` command. In a source checkout it runs the TypeScript sources (no stale build);
// an installed package runs the compiled dist/.
const path = require('node:path');
const fs = require('node:fs');

const srcMain = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
const useSource = fs.existsSync(srcMain) && !process.env.PUREBOOT_USE_DIST;

if (!useSource) {
  require('../dist/cli/main.js').main(process.argv);
} else if (process.execArgv.includes('--conditions=pureboot-source')) {
  require(srcMain).main(process.argv);
} else {
  // Re-run with the flags that load workspace packages from their TypeScript sources.
  const { spawn } = require('node:child_process');
  const child = spawn(
    process.execPath,
    ['--conditions=pureboot-source', '--require', require.resolve('tsx/cjs'), __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
