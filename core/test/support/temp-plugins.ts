import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temp deployment folder outside the workspace, with local plugin files and a config. */
export class TempDeployment {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pureboot-test-'));

  /** Write a CommonJS plugin module; `body` is the object literal of the definition. */
  plugin(file: string, body: string): string {
    const p = path.join(this.dir, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, `'use strict';\nmodule.exports = ${body};\n`);
    return p;
  }

  write(file: string, content: string): string {
    const p = path.join(this.dir, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
