import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { StaticRoot } from '../src/files/static-root';

/** The static root on a real directory tree: files, symlinks in and out, a FIFO, a directory. */
describe('static root: what a requested path resolves to', () => {
  let base: string;
  let root: string;
  let sr: StaticRoot;
  const resolve = async (p: string) => {
    const r = await sr.resolve({ protocol: 'tftp', path: p, client: { address: '198.18.0.9', port: 2000 } });
    return r.status === 'found' ? { status: r.status, size: r.size } : { status: r.status };
  };

  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-static-root-'));
    root = path.join(base, 'root');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'undionly.kpxe'), Buffer.alloc(700, 1));
    fs.writeFileSync(path.join(root, 'sub', 'linux'), Buffer.alloc(300, 2));
    fs.writeFileSync(path.join(base, 'outside.txt'), 'secret');
    fs.mkdirSync(path.join(base, 'outdir'));
    fs.writeFileSync(path.join(base, 'outdir', 'f'), 'x');
    fs.symlinkSync('undionly.kpxe', path.join(root, 'alias.kpxe')); // inside: allowed
    fs.symlinkSync('sub/linux', path.join(root, 'linux-alias')); // inside, into a directory
    fs.symlinkSync(path.join(base, 'outside.txt'), path.join(root, 'escape.txt')); // leaves the root
    fs.symlinkSync('/etc', path.join(root, 'etc')); // a directory outside
    fs.symlinkSync(path.join(base, 'outdir'), path.join(root, 'outdir')); // leaves through a directory
    fs.symlinkSync('nowhere', path.join(root, 'dangling'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    sr = new StaticRoot(root);
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  const cases: Array<[string, { status: string; size?: number }]> = [
    ['undionly.kpxe', { status: 'found', size: 700 }],
    ['/undionly.kpxe', { status: 'found', size: 700 }],
    ['sub/linux', { status: 'found', size: 300 }],
    ['sub\\linux', { status: 'found', size: 300 }],
    ['alias.kpxe', { status: 'found', size: 700 }],
    ['linux-alias', { status: 'found', size: 300 }],
    ['escape.txt', { status: 'denied' }],
    ['etc/passwd', { status: 'denied' }],
    ['etc', { status: 'denied' }],
    ['outdir/f', { status: 'denied' }],
    ['dangling', { status: 'not-found' }],
    ['missing.bin', { status: 'not-found' }],
    ['undionly.kpxe/x', { status: 'not-found' }],
    ['sub', { status: 'not-found' }],
    ['fifo', { status: 'denied' }],
    ['../outside.txt', { status: 'denied' }],
  ];
  for (const [p, want] of cases) {
    it(`${JSON.stringify(p)} → ${want.status}`, async () => {
      expect(await resolve(p)).to.deep.equal(want);
    });
  }

  it('a file replaced by a symlink out of the root between two requests is refused the second time', async () => {
    const f = path.join(root, 'swapped.bin');
    fs.writeFileSync(f, 'ok');
    expect(await resolve('swapped.bin')).to.deep.equal({ status: 'found', size: 2 });
    fs.rmSync(f);
    fs.symlinkSync(path.join(base, 'outside.txt'), f);
    expect(await resolve('swapped.bin')).to.deep.equal({ status: 'denied' });
  });
});
