import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One request with the real curl binary (bounded: --max-time 20); status, headers and body as sent. */
export async function curl(args: string[], url: string): Promise<CurlResult> {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'pb-curl-'));
  try {
    const hdr = path.join(dir, 'h');
    const out = path.join(dir, 'b');
    await run('curl', ['-sS', '--max-time', '20', '--path-as-is', '-D', hdr, '-o', out, ...args, url], { timeout: 25000 });
    // the last header block (after any 100 Continue)
    const blocks = fs.readFileSync(hdr, 'utf8').trim().split(/\r?\n\r?\n/);
    const lines = blocks[blocks.length - 1].split(/\r?\n/);
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return { status, headers, body: fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
