'use strict';
// Site policy: only machines listed in a CSV file (mac,name) may boot; others are dropped at packetReceive.
const fs = require('node:fs');
const { definePlugin, Stage } = require('@pureboot/core');

module.exports = definePlugin({
  name: 'csv-allowlist',
  core: '^0.1.0',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: { file: { type: 'string', description: 'CSV with a header row: mac,name' } },
  },
  apply({ hooks, options, logger, resolvePath, onStart }) {
    let allowed = new Set();
    const load = () => {
      const rows = fs.readFileSync(resolvePath(options.file), 'utf8').split(/\r?\n/).slice(1);
      allowed = new Set(rows.map((r) => r.split(',')[0].trim().toLowerCase().replace(/-/g, ':')).filter(Boolean));
      logger.info({ machines: allowed.size }, 'allowlist loaded');
    };
    onStart(load);
    hooks.packetReceive.tap({ name: 'csv-allowlist', stage: Stage.GUARD }, (packet) => {
      if (packet.mac && !allowed.has(packet.mac)) return { drop: true, reason: `${packet.mac} is not in ${options.file}` };
      return undefined; // no opinion: the packet goes on
    });
  },
});
