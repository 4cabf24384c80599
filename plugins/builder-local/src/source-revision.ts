import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Identity of an iPXE source tree for the build cache: `git:<commit>` when `sourceDir` is the `src/`
 * folder (or the top) of its own git checkout and the checkout is clean, else `tree:<sha256>` of
 * every source file (build output `bin*` and `config/local` left out).
 */
export async function sourceRevisionOf(sourceDir: string): Promise<string> {
  const git = await gitRevision(sourceDir);
  return git ?? `tree:${await treeHash(sourceDir)}`;
}

function run(cmd: string, args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

async function gitRevision(sourceDir: string): Promise<string | undefined> {
  const top = await run('git', ['rev-parse', '--show-toplevel'], sourceDir);
  if (!top) return undefined;
  const real = await fs.promises.realpath(sourceDir);
  const realTop = await fs.promises.realpath(top);
  // Only the tree's own checkout counts (not, say, a repository the tree happens to sit inside).
  if (real !== realTop && real !== path.join(realTop, 'src')) return undefined;
  const head = await run('git', ['rev-parse', 'HEAD'], sourceDir);
  if (!head) return undefined;
  const dirty = await run('git', ['status', '--porcelain', '--untracked-files=no', '--', '.'], sourceDir);
  if (dirty === undefined || dirty !== '') return undefined;
  return `git:${head}`;
}

async function treeHash(root: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) {
        if (!rel && e.name.startsWith('bin')) continue;
        if (r === 'config/local') continue;
        await walk(r);
      } else if (e.isFile()) {
        hash.update(`${r}\0`);
        hash.update(await fs.promises.readFile(path.join(root, r)));
        hash.update('\0');
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}
