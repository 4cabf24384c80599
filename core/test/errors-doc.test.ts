import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const REPO = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sourceFiles(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

describe('error codes and docs/errors.md', () => {
  const roots = [path.join(REPO, 'core', 'src'), ...fs.readdirSync(path.join(REPO, 'plugins')).map((p) => path.join(REPO, 'plugins', p, 'src'))];
  const used = new Map<string, string>();
  for (const file of roots.flatMap(sourceFiles)) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/PB_ERR_[A-Z0-9_]+/g)) if (!used.has(m[0])) used.set(m[0], path.relative(REPO, file));
  }
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^### (PB_ERR_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]);

  it('every code used in the sources is documented', () => {
    const missing = [...used.keys()].filter((c) => !documented.includes(c)).map((c) => `${c} (used in ${used.get(c)})`);
    expect(missing, `add these to docs/errors.md`).to.deep.equal([]);
  });

  it('every documented code is used somewhere, and documented once', () => {
    expect(documented.filter((c) => !used.has(c)), 'documented but never used').to.deep.equal([]);
    expect(documented.filter((c, i) => documented.indexOf(c) !== i), 'documented twice').to.deep.equal([]);
  });

  it('codes are written whole in the sources (no built-up codes the scan would miss)', () => {
    for (const file of roots.flatMap(sourceFiles)) {
      expect(fs.readFileSync(file, 'utf8'), path.relative(REPO, file)).to.not.match(/['"`]PB_ERR_['"`]?\s*\+|`PB_ERR_\$\{/);
    }
  });
});
