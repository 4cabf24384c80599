/**
 * Benchmark client driver, run inside the bench namespace pinned to its own core:
 *   driver.ts curl   N PORT FILE BLKSIZE EXPECTED_BYTES
 *   driver.ts window N PORT FILE BLKSIZE WINDOWSIZE EXPECTED_SHA256
 * Starts N clients at once and prints one JSON line: wall time, successes, failures, bytes.
 */
import { spawn } from 'node:child_process';
import { tftpGet } from '../test/support/tftp-client';

function curl(port: number, file: string, blksize: number): Promise<{ ok: boolean; bytes: number; err?: string }> {
  return new Promise((resolve) => {
    const c = spawn('curl', ['-sS', '--max-time', '120', '--tftp-blksize', String(blksize), '-o', '/dev/null', '-w', '%{size_download}', `tftp://127.0.0.1:${port}/${file}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': the exit can be reported before curl's stdout (the byte count) is read.
    c.on('close', (code) => resolve({ ok: code === 0, bytes: Number(out) || 0, err: code === 0 ? undefined : err.trim().slice(0, 200) }));
  });
}

void (async () => {
  const [mode, nStr, portStr, file, blkStr, a5, a6] = process.argv.slice(2);
  const n = Number(nStr);
  const port = Number(portStr);
  const blksize = Number(blkStr);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let ok = 0;
  let bytes = 0;
  const errors: string[] = [];
  if (mode === 'curl') {
    const expected = Number(a5);
    const rs = await Promise.all(Array.from({ length: n }, () => curl(port, file, blksize)));
    for (const r of rs) {
      if (r.ok && r.bytes === expected) ok++;
      else errors.push(r.err ?? `got ${r.bytes} bytes`);
      bytes += r.bytes;
    }
  } else {
    const windowsize = Number(a5);
    const sha = a6;
    const rs = await Promise.all(
      Array.from({ length: n }, () => tftpGet({ host: '127.0.0.1', port, file, blksize, windowsize: windowsize > 1 ? windowsize : undefined, keep: false, timeoutMs: 1000, deadlineMs: 120000 })),
    );
    for (const r of rs) {
      if (r.ok && r.sha256 === sha) ok++;
      else errors.push(r.reason ?? r.error?.message ?? 'checksum mismatch');
      bytes += r.bytes;
    }
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const clientCpu = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(JSON.stringify({ wallMs, ok, failed: n - ok, bytes, clientCpu, errors: [...new Set(errors)].slice(0, 3) }) + '\n');
})();
