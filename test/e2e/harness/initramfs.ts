import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '@pureboot/core/testing';
import { FILES, findKernel } from './env';

/** What the guest's init prints on the serial console; the cases wait for these. */
export const INIT_MARKERS = {
  started: 'PUREBOOT-E2E: initramfs started',
  network: 'PUREBOOT-E2E: network up',
  callback: 'PUREBOOT-E2E: callback installed sent',
  callbackFailed: 'PUREBOOT-E2E: callback failed',
} as const;

/**
 * The installer's /init: load the NIC driver, take an address with busybox udhcpc, tell PureBoot
 * "installed" through the callback URL the install script put on the kernel command line
 * (`pureboot.callback=…`), then power off. busybox-static's `wget -T` segfaults, so every wget is
 * bounded by `timeout`.
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "${INIT_MARKERS.started}"
for m in $(cat /etc/modules.order); do insmod "/lib/modules/$m" 2>/dev/null; done
callback=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    pureboot.callback=*) callback="\${arg#pureboot.callback=}" ;;
  esac
done
iface=""
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /sys/class/net/*; do
    n="\${d##*/}"
    [ "$n" = lo ] && continue
    iface="$n"
  done
  [ -n "$iface" ] && break
  sleep 1
done
ok=0
if [ -n "$iface" ] && [ -n "$callback" ]; then
  ip link set lo up
  ip link set "$iface" up
  if udhcpc -i "$iface" -n -q -t 8 -T 2 -s /etc/udhcpc.script; then
    echo "${INIT_MARKERS.network} on $iface: $(ip -4 -o addr show dev "$iface" | awk '{print $4}')"
    for attempt in 1 2 3; do
      timeout 10 wget -q -O /tmp/started.out --post-data "event=started&message=e2e+initramfs" "$callback"
      if timeout 15 wget -q -O /tmp/callback.out --post-data "event=installed&message=e2e+initramfs" "$callback"; then
        ok=1
        echo "${INIT_MARKERS.callback}"
        break
      fi
      sleep 2
    done
  fi
fi
[ "$ok" = 1 ] || echo "${INIT_MARKERS.callbackFailed} (iface=$iface callback=$callback)"
sync
poweroff -f
`;

const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "\${router%% *}" dev "$interface"
    ;;
esac
exit 0
`;

/** NIC drivers (with dependencies from modules.dep) for the e1000 and virtio-net NICs the cases use. */
const NIC_MODULES = ['e1000', 'virtio_pci', 'virtio_net'];

function moduleClosure(modulesDir: string, names: string[]): string[] {
  const dep = fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8');
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of dep.split('\n')) {
    const [file, rest] = line.split(':');
    if (!file) continue;
    deps.set(file, (rest ?? '').trim().split(/\s+/).filter(Boolean));
    byName.set(path.basename(file).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_'), file);
  }
  const order: string[] = [];
  const visit = (file: string) => {
    if (order.includes(file)) return;
    for (const d of deps.get(file) ?? []) visit(d);
    order.push(file);
  };
  for (const n of names) {
    const file = byName.get(n);
    if (file) visit(file);
  }
  return order;
}

export interface BuiltInitramfs {
  file: string;
  size: number;
  sha256: string;
  modules: string[];
}

/**
 * Build a gzip'd newc cpio from busybox-static, the NIC modules of the installed kernel and
 * {@link INIT_SCRIPT}. Compressed modules (.ko.xz/.zst) are left out: busybox insmod cannot load them.
 */
export async function buildInitramfs(outFile: string): Promise<BuiltInitramfs> {
  const kernel = findKernel();
  if (!kernel) throw new Error('no kernel with modules in /boot and /lib/modules (apt-get install -y linux-image-amd64)');
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pureboot-initramfs-'));
  try {
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'lib/modules']) fs.mkdirSync(path.join(stage, d), { recursive: true });
    fs.copyFileSync(FILES.busybox, path.join(stage, 'bin/busybox'));
    fs.chmodSync(path.join(stage, 'bin/busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(stage, 'bin/sh'));
    fs.writeFileSync(path.join(stage, 'init'), INIT_SCRIPT, { mode: 0o755 });
    fs.writeFileSync(path.join(stage, 'etc/udhcpc.script'), UDHCPC_SCRIPT, { mode: 0o755 });
    const modules = moduleClosure(kernel.modules, NIC_MODULES).filter((m) => m.endsWith('.ko'));
    for (const m of modules) fs.copyFileSync(path.join(kernel.modules, m), path.join(stage, 'lib/modules', path.basename(m)));
    fs.writeFileSync(path.join(stage, 'etc/modules.order'), modules.map((m) => path.basename(m)).join('\n') + '\n');
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    await run('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -1 > "$2"', 'sh', stage, outFile], { timeoutMs: 60000 });
    const data = fs.readFileSync(outFile);
    return { file: outFile, size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), modules: modules.map((m) => path.basename(m)) };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
