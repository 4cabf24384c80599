// Child process for the crash and lock tests: opens a FileStore on argv[2] and, in mode "write",
// allocates + commits leases (and appends boot events) as fast as it can with several writers in
// flight, printing `ACK <n> <address>` once a commit has resolved. Mode "hold" just keeps the lock.
import { FileStore } from '@pureboot/plugin-storage-file';

const [dir, mode, startArg, fsyncArg, compactArg] = process.argv.slice(2);
const SUBNET = 'crash';
const RANGES = [{ start: 0xc6120000, end: 0xc613ffff }]; // 198.18.0.0/15

async function main(): Promise<void> {
  const store = new FileStore({ dir, fsync: (fsyncArg as 'always' | 'group' | 'never' | undefined) ?? 'group', compactBytes: Number(compactArg ?? 256 * 1024) });
  await store.open();
  process.stdout.write(`READY ${process.pid}\n`);
  if (mode === 'hold') {
    setInterval(() => undefined, 1000);
    return;
  }
  if (mode === 'big') {
    // 4 MiB boot events, six in flight: the journal is being written most of the time, so a SIGKILL
    // often lands inside a write(2) and leaves a record cut short
    const huge = 'y'.repeat(4 * 1024 * 1024);
    let n = 0;
    const bigWorker = async () => {
      for (;;) {
        const i = n++;
        await store.services.bootEvents.append({ mac: `52:54:02:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, at: i, source: 'crash-test', kind: 'big', detail: { huge } });
        process.stdout.write(`ACK ${i} 0\n`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, bigWorker));
    return;
  }
  const { leaseStore, bootEvents } = store.services;
  let next = Number(startArg);
  const pad = 'x'.repeat(6000); // multi-page records now and then, so a kill can land inside a write
  const worker = async () => {
    for (;;) {
      const n = next++;
      const clientId = `c${n}`;
      const mac = `52:54:01:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
      const now = Date.now();
      const a = await leaseStore.allocate({ subnetId: SUBNET, clientId, mac, ranges: RANGES, state: 'offered', expiresAt: now + 60_000, now });
      if (!a.ok) throw new Error(`allocation failed: ${a.reason}`);
      const c = await leaseStore.commit({ subnetId: SUBNET, clientId, mac, address: a.lease.address, expiresAt: now + 86_400_000, now });
      if (!c.ok) throw new Error(`commit failed: ${c.reason}`);
      process.stdout.write(`ACK ${n} ${c.lease.address}\n`);
      if (n % 7 === 0) await bootEvents.append({ mac, at: now, source: 'crash-test', kind: 'dhcp.ack', detail: { pad } });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

main().catch((err) => {
  process.stderr.write(`writer-child failed: ${(err as { code?: string }).code ?? ""} ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
