import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PureBoot's STAND-IN iPXE source tree (test/fixtures/ipxe-standin; NOT iPXE): it honours iPXE's make
 * interface and records in its "artifact" what the build was given.
 */
export const STANDIN_SRC = path.resolve(__dirname, '../fixtures/ipxe-standin/src');

export interface StandinTree {
  /** The copy's src/ folder. */
  src: string;
  /** A `make` wrapper that records each run's argv (one JSON line per run) and then runs make. */
  make: string;
  /** argv of every make run so far. */
  runs(): string[][];
  remove(): void;
}

/** A private copy of the stand-in tree with its test controls (slow, failing) and a counting make. */
export function standinTree(controls: { sleepS?: number; fail?: boolean } = {}): StandinTree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-ipxe-standin-'));
  const src = path.join(root, 'src');
  fs.cpSync(STANDIN_SRC, src, { recursive: true });
  const mk = [controls.sleepS ? `STANDIN_SLEEP := ${controls.sleepS}` : '', controls.fail ? 'STANDIN_FAIL := 1' : ''].filter(Boolean);
  if (mk.length) fs.writeFileSync(path.join(src, 'standin-control.mk'), `${mk.join('\n')}\n`);
  const runsFile = path.join(root, 'make-runs.jsonl');
  const make = path.join(root, 'make-recording');
  // The wrapper writes its argv as JSON with node (no shell quoting involved), then execs make.
  fs.writeFileSync(
    make,
    `#!/bin/sh\n${JSON.stringify(process.execPath)} -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' ${JSON.stringify(runsFile)} "$@"\nexec make "$@"\n`,
    { mode: 0o755 },
  );
  return {
    src,
    make,
    runs: () => {
      try {
        return fs
          .readFileSync(runsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[]);
      } catch {
        return [];
      }
    },
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
