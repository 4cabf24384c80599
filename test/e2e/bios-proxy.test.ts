import { runPxeCase } from './harness/pxe';
import { CASE_TIMEOUT_MS, e2eHooks, reportDuration } from './harness/suite';

/**
 * bios-proxy: SeaBIOS + QEMU's iPXE ROM (e1000); dnsmasq hands out addresses, PureBoot's proxy DHCP the boot file.
 * Stage 1 TFTPs bios/undionly.kpxe, the chained iPXE gets the chain URL (after-tftp policy) and the HTTP script.
 */
describe('e2e: bios-proxy', function () {
  this.timeout(CASE_TIMEOUT_MS);
  e2eHooks();

  it("QEMU's iPXE ROM (e1000) → TFTP bios/undionly.kpxe → chained iPXE → HTTP script of the discovered machine", async function () {
    const t0 = Date.now();
    await runPxeCase({ name: 'bios-proxy', firmware: 'bios', mode: 'proxy', mac: '52:54:00:64:01:03' });
    reportDuration('bios-proxy', t0);
  });
});
