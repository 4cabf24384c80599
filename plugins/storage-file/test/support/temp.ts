import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Temp folders removed by `cleanup()` (call it from an after hook). */
export class TempDirs {
  private dirs: string[] = [];
  make(prefix = 'pb-storage-file-', parent = os.tmpdir()): string {
    const d = fs.mkdtempSync(path.join(parent, prefix));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  }
}
