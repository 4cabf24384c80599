import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { GOLDEN_CASES, answerFor } from './golden-cases';

const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'golden.json'), 'utf8')) as Record<string, string>;

describe('proxy-dhcp: golden answers (both UEFI strategies, iPXE)', () => {
  for (const c of GOLDEN_CASES) {
    it(`${c.name}: ${c.request} on ${c.port === 'dhcp' ? 67 : 4011} → the documented bytes`, async () => {
      expect((await answerFor(c)).toString('hex')).to.equal(golden[c.name]);
    });
  }
});
