import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { loadDeployment } from '../src';

const REPO = path.resolve(__dirname, '..', '..');
const files = [
  path.join(REPO, 'config', 'pureboot.config.yaml'),
  ...fs.readdirSync(path.join(REPO, 'config', 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => path.join(REPO, 'config', 'examples', f)),
];

describe('shipped configurations', () => {
  it('there is a default and at least four example deployments', () => {
    expect(files.length).to.be.at.least(5);
  });
  for (const file of files) {
    it(`${path.relative(REPO, file)} loads every plugin it names and validates`, async () => {
      const d = await loadDeployment({ configFile: file, env: {} });
      const names = (d.config.plugins as string[]).map((p) => p.replace(/^@pureboot\/plugin-/, ''));
      expect(d.plugins.map((p) => p.definition.name.replace(/^@pureboot\/plugin-/, ''))).to.have.members(names);
    });
  }
});
