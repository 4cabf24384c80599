import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { E2eFailure } from './harness/case';
import { DEFAULT_BOOT_FILES } from './harness/config';
import { runPxeCase } from './harness/pxe';
import { CASE_TIMEOUT_MS, e2eHooks, reportDuration } from './harness/suite';
import type { TimelineEvent } from './harness/timeline';

const MISSING = 'bios/does-not-exist.kpxe';

/**
 * The suite must fail when PureBoot's answer is wrong: the boot-file map names a file that is not
 * in the TFTP root. The case has to fail fast (on the firmware's error, not at the time limit), and
 * the failure has to carry the serial console, the timeline (with the failed TFTP read) and the
 * artifacts folder with the serial log, PureBoot's log and the packet capture.
 */
describe('e2e: broken boot-file map is reported with the serial log', function () {
  this.timeout(CASE_TIMEOUT_MS);
  e2eHooks();

  it('a boot file missing from the TFTP root fails the PXE case with the serial console, timeline and artifacts', async function () {
    const t0 = Date.now();
    let failure: unknown;
    try {
      await runPxeCase({ name: 'broken-boot-file', firmware: 'bios', mode: 'dhcp', mac: '52:54:00:64:01:06', bootFiles: { ...DEFAULT_BOOT_FILES, bios: MISSING } });
    } catch (err) {
      failure = err;
    }
    expect(failure, 'the case passed although the boot file does not exist').to.be.instanceOf(E2eFailure);
    const f = failure as E2eFailure;
    try {
      expect(f.message).to.match(/boot failed before the discovered local-boot script: the serial console shows/, 'failed on the firmware error, not at the time limit');
      expect(f.message).to.contain('--- serial console (boot1), last 40 lines ---');
      expect(f.serialLog).to.contain('iPXE');
      expect(f.serialLog).to.contain(MISSING);
      expect(f.message).to.contain(MISSING);
      for (const file of ['boot1.serial.log', 'pureboot.log', 'capture.pcap', 'timeline.json', 'pureboot.config.json']) {
        expect(fs.statSync(path.join(f.artifactsDir, file)).size, `artifact ${file}`).to.be.greaterThan(0);
      }
      const timeline = JSON.parse(fs.readFileSync(path.join(f.artifactsDir, 'timeline.json'), 'utf8')) as TimelineEvent[];
      const offer = timeline.find((e) => e.kind === 'dhcp.offer');
      expect(offer?.detail.bootFile, 'the DHCP answer named the broken file').to.equal(MISSING);
      const failed = timeline.find((e) => e.kind === 'tftp.failed' && e.detail.path === MISSING);
      expect(failed, 'tftp.failed of the missing file in the timeline').to.not.equal(undefined);
      expect(failed!.detail.reason).to.equal('not-found');
      expect(timeline.some((e) => e.kind === 'http.script'), 'no script may have been fetched').to.equal(false);
    } catch (err) {
      process.stdout.write(`--- the reported failure was ---\n${f.message}\n`);
      throw err;
    }
    // The failure was the expected one: its artifacts are not CI artifacts.
    fs.rmSync(f.artifactsDir, { recursive: true, force: true });
    reportDuration('broken-boot-file', t0);
  });
});
