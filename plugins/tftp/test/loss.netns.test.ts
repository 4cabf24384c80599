import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { NetLab, requireRoot, requireTools, tsNodeArgs, type RunningProcess } from '@pureboot/core/testing';
import { makeFile } from './support/harness';

const SERVER = '198.18.4.1';
const CLIENT = '198.18.4.2';
const PORT = 16940;
const LOSS = 'udp dport != 0 numgen random mod 100 < 10 drop';

/** Packet loss: 10 % of the UDP datagrams entering each namespace are dropped (nftables, numgen random). */
describe('tftp: 10 % packet loss in each direction (netns + nftables)', function () {
  this.timeout(240000);
  let lab: NetLab;
  let srv: RunningProcess;
  let root: string;
  const sums: Record<string, string> = {};

  before(async function () {
    requireRoot(this);
    requireTools(this, ['ip', 'nft', 'tftp']);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-tftp-loss-'));
    sums.lock = makeFile(root, 'lock.bin', 1024 * 1024 + 11);
    sums.window = makeFile(root, 'window.bin', 100 * 1024 * 1024 + 5); // the 100 MiB under loss
    sums.hpa = makeFile(root, 'hpa.bin', 256 * 1024 + 3);
    lab = new NetLab();
    await lab.addNamespace('srv');
    await lab.addNamespace('cli');
    await lab.veth({ ns: 'srv', ifname: 'eth0', cidr: `${SERVER}/24` }, { ns: 'cli', ifname: 'eth0', cidr: `${CLIENT}/24` });
    for (const ns of ['srv', 'cli']) {
      await lab.exec(ns, ['nft', 'add', 'table', 'inet', 'loss']);
      await lab.exec(ns, ['nft', 'add', 'chain', 'inet', 'loss', 'in', '{ type filter hook input priority 0; }']);
      await lab.exec(ns, ['nft', 'add', 'rule', 'inet', 'loss', 'in', ...LOSS.split(' ')]);
    }
    srv = lab.spawn('srv', [
      process.execPath,
      ...tsNodeArgs(),
      path.join(__dirname, 'support', 'serve.ts'),
      '--root',
      root,
      '--address',
      SERVER,
      '--port',
      String(PORT),
      '--tftp',
      JSON.stringify({ timeoutMs: 40, maxTimeoutMs: 320, retries: 12, maxTransfersPerClient: 16 }),
    ]);
    await srv.waitFor(/tftp ready/, 20000);
  });

  after(async () => {
    await lab?.destroy();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('lock-step, windowsize 16 (own client) and tftp-hpa all arrive intact, in parallel', async () => {
    const client = path.join(__dirname, 'support', 'tftp-client.ts');
    const own = (file: string, extra: string[]) =>
      lab.exec('cli', [process.execPath, ...tsNodeArgs(), client, SERVER, String(PORT), file, '--timeout-ms', '200', '--deadline-ms', '180000', ...extra], { timeoutMs: 190000, allowFail: true });
    const hpaOut = path.join(root, 'hpa.out');
    const [lock, win, hpa] = await Promise.all([
      own('lock.bin', ['--blksize', '1468']),
      own('window.bin', ['--blksize', '1468', '--windowsize', '16']),
      lab.exec('cli', ['sh', '-c', `printf 'binary\\nrexmt 1\\ntimeout 70\\nget hpa.bin ${hpaOut}\\nquit\\n' | tftp ${SERVER} ${PORT}`], { timeoutMs: 190000, allowFail: true }),
    ]);
    const l = JSON.parse(lock.stdout) as { ok: boolean; sha256: string; duplicateData: number };
    const w = JSON.parse(win.stdout) as { ok: boolean; sha256: string; duplicateData: number };
    expect(l.ok, lock.stdout + lock.stderr).to.equal(true);
    expect(l.sha256).to.equal(sums.lock);
    expect(w.ok, win.stdout + win.stderr).to.equal(true);
    expect(w.sha256).to.equal(sums.window);
    expect(hpa.code, hpa.stderr).to.equal(0);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(fs.readFileSync(hpaOut)).digest('hex')).to.equal(sums.hpa);
    await srv.stop('SIGTERM', 5000);
    const stats = JSON.parse(/tftp stats (.*)/.exec(srv.stdout())?.[1] ?? '{}') as { done: number; retransmits: number };
    expect(stats.done).to.be.at.least(2); // a lost final ACK may leave one "unconfirmed" but done
    expect(stats.retransmits).to.be.greaterThan(0); // the loss really happened
  });
});
