#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, the demo) from the checkout: tsx as the loader and the
// `pureboot-source` export condition so workspace packages resolve to their src/.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run-ts.js <file.ts> [args…]\n');
  process.exit(64);
}
const result = spawnSync(
  process.execPath,
  ['--conditions=pureboot-source', '--require', require.resolve('tsx/cjs'), path.resolve(entry), ...rest],
  { stdio: 'inherit' },
);
if (result.error) throw result.error;
process.exit(result.status ?? (result.signal ? 128 : 1));
