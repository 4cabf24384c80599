import { runPxeCase } from './harness/pxe';
import { CASE_TIMEOUT_MS, e2eHooks, reportDuration } from './harness/suite';

/**
 * uefi-dhcp: OVMF + EDK2's own PXE client (virtio-net, no option ROM); PureBoot is the only DHCP server.
 * Stage 1 TFTPs uefi/snponly.efi, the chained iPXE gets the chain URL (after-tftp policy) and the HTTP script.
 */
describe('e2e: uefi-dhcp', function () {
  this.timeout(CASE_TIMEOUT_MS);
  e2eHooks();

  it("EDK2's own PXE client (virtio-net, no option ROM) → TFTP uefi/snponly.efi → chained iPXE → HTTP script of the discovered machine", async function () {
    const t0 = Date.now();
    await runPxeCase({ name: 'uefi-dhcp', firmware: 'uefi', mode: 'dhcp', mac: '52:54:00:64:01:02' });
    reportDuration('uefi-dhcp', t0);
  });
});
