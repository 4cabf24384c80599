import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { BuilderError, Pureboot } from '@pureboot/core';
import { builderContractCases, requireTools } from '@pureboot/core/testing';
import pino from 'pino';
import { LocalBackend } from '../src';

// The iPXE tree used here is PureBoot's STAND-IN (plugins/ipxe-builder/test/fixtures/ipxe-standin),
// not iPXE: it honours iPXE's make interface and records what a build was given.
const STANDIN_SRC = path.resolve(__dirname, '../../ipxe-builder/test/fixtures/ipxe-standin/src');

/** Processes whose command line mentions `dir` (make, sh, sleep of a build in that folder). */
function processesUnder(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes('ps -eo'))
    .map((l) => `process: ${l.trim()}`);
}

describe('builder-local: LocalBackend against the stand-in iPXE tree', function () {
  let workDir: string;
  let backend: LocalBackend;

  before(function () {
    requireTools(this, ['make', 'sh']);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-blocal-'));
    backend = new LocalBackend({ sourceDir: STANDIN_SRC, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 500 });
  });
  after(() => {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  describe('shared builderBackend contract', () => {
    for (const c of builderContractCases({
      backend: () => backend,
      residue: async () => [...fs.readdirSync(workDir).map((f) => `work dir: ${f}`), ...processesUnder(workDir)],
      buildTimeoutMs: 20_000,
    })) {
      it(c.name, async function () {
        this.timeout(c.timeoutMs);
        await c.run();
      });
    }
  });

  it('passes the embedded script as EMBED= of a file in the private copy, never as text on the command line', async () => {
    const lines: string[] = [];
    const r = await backend.build({ id: 'argv-check', target: 'bin-x86_64-efi/snponly.efi', embeddedScript: '#!ipxe\necho hi\n', configHeaders: {}, signal: new AbortController().signal, onLog: (l) => lines.push(l) });
    const text = r.artifact.toString('latin1');
    expect(text).to.match(/makeflags: .*EMBED=\S*\/argv-check-[^/\s]+\/embed\.ipxe/);
    expect(text).not.to.match(/makeflags: .*echo hi/);
  });

  it('refuses a source tree without a Makefile with kind "backend"', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-blocal-empty-'));
    try {
      const b = new LocalBackend({ sourceDir: empty, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 500 });
      const err = await b.prepare().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(BuilderError);
      expect((err as BuilderError).kind).to.equal('backend');
      expect((err as BuilderError).code).to.equal('PB_ERR_BUILDER_BACKEND');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses option values that could become extra make arguments', () => {
    expect(() => new LocalBackend({ sourceDir: `${STANDIN_SRC} EMBED=/etc/passwd`, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 0 })).to.throw(BuilderError, /may only hold/);
    expect(() => new LocalBackend({ sourceDir: STANDIN_SRC, workDir, make: 'make', jobs: 1, cross: { 'bin/undionly.kpxe': 'x;reboot' }, killGraceMs: 0 })).to.throw(BuilderError);
  });

  it('identifies the stand-in tree by a content hash (stable, changes with the source)', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-blocal-rev-'));
    try {
      fs.cpSync(STANDIN_SRC, copy, { recursive: true });
      const a = await new LocalBackend({ sourceDir: copy, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 0 }).sourceRevision();
      expect(a).to.match(/^tree:[0-9a-f]{64}$/);
      fs.writeFileSync(path.join(copy, 'VERSION'), 'standin-2\n');
      const b = await new LocalBackend({ sourceDir: copy, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 0 }).sourceRevision();
      expect(b).to.not.equal(a);
      const pinned = await new LocalBackend({ sourceDir: copy, workDir, make: 'make', jobs: 1, cross: {}, killGraceMs: 0, revision: 'v1.21.1' }).sourceRevision();
      expect(pinned).to.equal('v1.21.1');
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('registers the builderBackend service as a plugin', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-blocal-plugin-'));
    try {
      const k = await Pureboot.create({
        config: { plugins: ['builder-local'], server: { dataDir, logLevel: 'silent' }, 'builder-local': { sourceDir: STANDIN_SRC } },
        configDir: dataDir,
        logger: pino({ level: 'silent' }),
      });
      expect(k.services.builderBackend.name).to.equal('local');
      await k.services.builderBackend.prepare();
      expect(fs.existsSync(path.join(dataDir, 'builder-local'))).to.equal(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
