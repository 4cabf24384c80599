import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FileStore } from '@pureboot/plugin-storage-file';
import { TempDirs } from './support/temp';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

async function openError(dir: string): Promise<(Error & { code?: string }) | undefined> {
  const s = new FileStore({ dir });
  try {
    await s.open();
  } catch (err) {
    return err as Error & { code?: string };
  }
  await s.close();
  return undefined;
}

describe('storage-file lock file', () => {
  const temps = new TempDirs();
  after(() => temps.cleanup());

  it('takes over a lock whose process is gone, and one whose pid now belongs to another process', async () => {
    const dir = temps.make();
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: deadPid(), start: '1', host: os.hostname(), at: 'then' }));
    expect(await openError(dir)).to.equal(undefined);
    // pid 1 is alive, but its start time is not the one recorded: a reused pid
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: 1, start: '999999999999', host: os.hostname(), at: 'then' }));
    expect(await openError(dir)).to.equal(undefined);
    expect(fs.existsSync(path.join(dir, 'LOCK'))).to.equal(false, 'released on close');
  });

  it('never takes over a live owner or a lock from another host', async () => {
    const dir = temps.make();
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: 1, host: os.hostname(), at: 'then' }));
    expect((await openError(dir))?.code).to.equal('PB_ERR_STORAGE_LOCKED');
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: deadPid(), host: 'some-other-host', at: 'then' }));
    const err = await openError(dir);
    expect(err?.code).to.equal('PB_ERR_STORAGE_LOCKED');
    expect(err?.message).to.include('some-other-host');
  });

  it('treats an unreadable lock as being written unless it is old', async () => {
    const dir = temps.make();
    const lock = path.join(dir, 'LOCK');
    fs.writeFileSync(lock, '');
    expect((await openError(dir))?.code).to.equal('PB_ERR_STORAGE_LOCKED');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    expect(await openError(dir)).to.equal(undefined);
  });
});
