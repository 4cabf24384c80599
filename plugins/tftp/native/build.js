#!/usr/bin/env node
/*
 * `npm ci` / `npm rebuild @pureboot/plugin-tftp`: compile the batched UDP transport (udp_batch.c)
 * with node-gyp against this Node's headers. Where it cannot be built (no compiler, not Linux) the
 * plugin still works on node:dgram and says so at start; with PUREBOOT_REQUIRE_ALL=1 (CI) a failed
 * build fails the install instead.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const required = process.env.PUREBOOT_REQUIRE_ALL === '1';

function nodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm's own copy, next to the npm that runs this node.
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((c) => fs.existsSync(c));
}

function fail(why) {
  const msg = `@pureboot/plugin-tftp: the batched UDP transport was not built (${why}); TFTP transfers will use node:dgram.`;
  if (required) {
    process.stderr.write(`${msg}\nPUREBOOT_REQUIRE_ALL=1: failing the install.\n`);
    process.exit(1);
  }
  process.stderr.write(`${msg}\n`);
  process.exit(0);
}

if (process.platform !== 'linux') fail(`it is Linux-only, this is ${process.platform}`);
const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found');
const args = [gyp, 'rebuild'];
if (!process.env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const r = spawnSync(process.execPath, args, { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
  fail(`node-gyp exited with ${r.status ?? r.signal}`);
}
process.stdout.write('@pureboot/plugin-tftp: built build/Release/udp_batch.node\n');
