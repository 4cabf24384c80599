import { requireRoot, requireTools, skipOrFail, type SkippableContext } from '@pureboot/core/testing';
import { closeOpenCases, CASE_LIMIT_MS } from './case';
import { missingRequirements, TOOLS } from './env';

/** Mocha timeout of one case: the case's own limit plus teardown. */
export const CASE_TIMEOUT_MS = CASE_LIMIT_MS + 30000;

/**
 * Skip (or, under PUREBOOT_REQUIRE_ALL=1, fail) when the machine cannot run the end-to-end suite:
 * root, the commands the harness runs, the firmware and guest files from Debian packages.
 */
export function requireE2e(ctx: SkippableContext): void {
  requireRoot(ctx);
  requireTools(ctx, TOOLS);
  const missing = missingRequirements();
  if (missing.length) skipOrFail(ctx, missing.map((m) => `${m.what} (${m.install})`).join('; '));
}

/** Register the suite's hooks: prerequisites before, and a last-resort teardown of any case left open. */
export function e2eHooks(): void {
  before(function () {
    requireE2e(this);
  });
  after(async function () {
    this.timeout(30000);
    await closeOpenCases();
  });
}

/** Print how long a case took (the suite's time budget is watched in CI logs). */
export function reportDuration(name: string, startedAt: number): void {
  process.stdout.write(`      e2e ${name}: ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
}
