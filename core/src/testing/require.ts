import { execFileSync } from 'node:child_process';

/** The part of a mocha test context these helpers use. */
export interface SkippableContext {
  skip(): void;
}

/**
 * Tests that need a real peer (dhclient, tftp-hpa, QEMU, root …) call these. When something is
 * missing the test is skipped with the reason — unless PUREBOOT_REQUIRE_ALL=1 (set by .ci/run), which
 * turns every such skip into a failure so CI always runs the real thing.
 */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${JSON.stringify(t).slice(1, -1)}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

export function skipOrFail(ctx: SkippableContext, reason: string): never {
  if (process.env.PUREBOOT_REQUIRE_ALL === '1') throw new Error(`required for this suite but missing: ${reason} (PUREBOOT_REQUIRE_ALL=1)`);
  ctx.skip();
  throw new Error('unreachable');
}

export function requireTools(ctx: SkippableContext, tools: string[]): void {
  const missing = missingTools(tools);
  if (missing.length > 0) skipOrFail(ctx, `tools not installed: ${missing.join(', ')}`);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function requireRoot(ctx: SkippableContext): void {
  if (!isRoot()) skipOrFail(ctx, 'needs root (network namespaces, privileged ports)');
}
