import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { BuilderError, type BuildSpec, type BuilderBackend, type IpxeTarget } from '../contracts/builder-backend';

/**
 * The shared contract suite of the `builderBackend` service. Every backend (builder-docker,
 * builder-local) runs these cases against PureBoot's STAND-IN iPXE source tree
 * (plugins/ipxe-builder/test/fixtures/ipxe-standin: it honours iPXE's make interface, writes an
 * artifact that records the embedded script and the config/local headers, and reads
 * `#standin-sleep N` / `#standin-fail` lines from the embedded script).
 *
 * Use it from a mocha file:
 *
 *   for (const c of builderContractCases({ backend: () => backend, residue })) {
 *     it(c.name, async function () { this.timeout(c.timeoutMs); await c.run(); });
 *   }
 */
export interface BuilderContractOptions {
  backend(): BuilderBackend;
  /** What the backend left behind (processes, containers, work directories); must be empty after every build settles. */
  residue(): Promise<string[]>;
  /** Time one quick stand-in build may take on this backend (default 30 s). */
  buildTimeoutMs?: number;
}

export interface BuilderContractCase {
  name: string;
  timeoutMs: number;
  run(): Promise<void>;
}

function newId(): string {
  return `ct-${crypto.randomBytes(5).toString('hex')}`;
}

function spec(over: Partial<BuildSpec> & { lines?: string[] } = {}): BuildSpec & { lines: string[] } {
  const lines = over.lines ?? [];
  return {
    id: newId(),
    target: 'bin/undionly.kpxe',
    configHeaders: {},
    signal: new AbortController().signal,
    onLog: (l) => lines.push(l),
    ...over,
    lines,
  };
}

async function expectBuilderError(p: Promise<unknown>, kind: BuilderError['kind']): Promise<BuilderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BuilderError, `expected a BuilderError, got ${String(err)}`);
    assert.equal(err.kind, kind, `expected kind ${kind}, got ${err.kind}: ${err.message}`);
    return err;
  }
  assert.fail(`expected the build to reject with kind ${kind}`);
}

export function builderContractCases(o: BuilderContractOptions): BuilderContractCase[] {
  const quick = o.buildTimeoutMs ?? 30_000;
  const noResidue = async () => assert.deepEqual(await o.residue(), [], 'the backend left something behind');
  return [
    {
      name: 'prepare() is idempotent and sourceRevision() is stable',
      timeoutMs: quick * 2,
      run: async () => {
        await o.backend().prepare();
        await o.backend().prepare();
        const a = await o.backend().sourceRevision();
        const b = await o.backend().sourceRevision();
        assert.ok(a.length > 0);
        assert.equal(a, b);
      },
    },
    {
      name: 'builds a target with an embedded script and config/local headers, streaming the log',
      timeoutMs: quick,
      run: async () => {
        const script = '#!ipxe\necho contract-embedded-marker\n';
        const s = spec({ embeddedScript: script, configHeaders: { 'general.h': '#define DOWNLOAD_PROTO_HTTPS /* contract */\n' } });
        const r = await o.backend().build(s);
        const text = r.artifact.toString('latin1');
        assert.match(text, /^PUREBOOT-IPXE-STANDIN/);
        assert.ok(text.includes('target: bin/undionly.kpxe'), 'artifact of the wrong target');
        assert.ok(text.includes('echo contract-embedded-marker'), 'the embedded script is not in the artifact');
        assert.ok(text.includes('--- config/local/general.h\n#define DOWNLOAD_PROTO_HTTPS /* contract */'), 'the config header did not reach config/local');
        assert.ok(s.lines.some((l) => l.includes('[BUILD]')), `no build lines were streamed: ${s.lines.join(' | ')}`);
        await noResidue();
      },
    },
    {
      name: 'builds every target, without an embedded script too',
      timeoutMs: quick * 2,
      run: async () => {
        for (const target of ['bin-x86_64-efi/ipxe.efi', 'bin-arm64-efi/snp.efi'] as IpxeTarget[]) {
          const r = await o.backend().build(spec({ target }));
          const text = r.artifact.toString('latin1');
          assert.ok(text.includes(`target: ${target}`));
          assert.ok(!text.includes('--- embedded script'), 'an embedded script appeared although none was given');
        }
        await noResidue();
      },
    },
    {
      name: 'a failing make rejects with kind "failed", the exit code and the error in the log',
      timeoutMs: quick,
      run: async () => {
        const s = spec({ embeddedScript: '#!ipxe\n#standin-fail\n' });
        const err = await expectBuilderError(o.backend().build(s), 'failed');
        assert.ok(err.exitCode !== undefined && err.exitCode !== 0, `exit code ${err.exitCode}`);
        assert.ok(s.lines.some((l) => l.includes('stand-in build failure requested')), `the error line is missing from the log: ${s.lines.join(' | ')}`);
        await noResidue();
      },
    },
    {
      name: 'abort kills a running build, cleans up, then rejects with kind "aborted"',
      timeoutMs: quick + 30_000,
      run: async () => {
        const ac = new AbortController();
        const s = spec({ embeddedScript: '#!ipxe\n#standin-sleep 120\n', signal: ac.signal });
        const p = o.backend().build(s);
        const deadline = Date.now() + quick;
        while (!s.lines.some((l) => l.includes('[BUILD]'))) {
          if (Date.now() > deadline) assert.fail(`the slow build never started: ${s.lines.join(' | ')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const t0 = Date.now();
        ac.abort(new Error('contract: abort'));
        await expectBuilderError(p, 'aborted');
        assert.ok(Date.now() - t0 < 20_000, 'abort took longer than 20 s');
        await noResidue();
      },
    },
    {
      name: 'an already aborted signal never starts a build',
      timeoutMs: quick,
      run: async () => {
        const ac = new AbortController();
        ac.abort(new Error('contract: early abort'));
        const s = spec({ signal: ac.signal });
        await expectBuilderError(o.backend().build(s), 'aborted');
        assert.ok(!s.lines.some((l) => l.includes('[BUILD]')), 'make ran although the signal was aborted');
        await noResidue();
      },
    },
    {
      name: 'rejects invalid specs (target, header name, id) before running anything',
      timeoutMs: quick,
      run: async () => {
        const bad: Array<Partial<BuildSpec>> = [
          { target: 'bin/undionly.kpxe EMBED=/etc/passwd' as IpxeTarget },
          { target: '../../etc/passwd' as IpxeTarget },
          { configHeaders: { '../../evil.h': '#define X\n' } },
          { configHeaders: { 'general.h; rm -rf /': '' } },
          { id: 'x y;$(reboot)' },
          { embeddedScript: 'echo not an ipxe script' },
        ];
        for (const b of bad) {
          const s = spec(b);
          await expectBuilderError(o.backend().build(s), 'invalid');
          assert.deepEqual(s.lines, [], `a rejected spec produced build output: ${JSON.stringify(b)}`);
        }
        await noResidue();
      },
    },
    {
      name: 'concurrent builds are isolated from each other',
      timeoutMs: quick * 2,
      run: async () => {
        const a = spec({ embeddedScript: '#!ipxe\necho build-A\n#standin-sleep 2\n', configHeaders: { 'console.h': '#define CONSOLE_SERIAL /* A */\n' } });
        const b = spec({ embeddedScript: '#!ipxe\necho build-B\n', configHeaders: { 'general.h': '#define PING_CMD /* B */\n' } });
        const [ra, rb] = await Promise.all([o.backend().build(a), o.backend().build(b)]);
        const ta = ra.artifact.toString('latin1');
        const tb = rb.artifact.toString('latin1');
        assert.ok(ta.includes('echo build-A') && !ta.includes('build-B') && ta.includes('/* A */') && !ta.includes('/* B */'), 'build A saw build B');
        assert.ok(tb.includes('echo build-B') && !tb.includes('build-A') && tb.includes('/* B */') && !tb.includes('/* A */'), 'build B saw build A');
        await noResidue();
      },
    },
  ];
}
