// Regenerates fixtures/golden.json (run: node scripts/run-ts.js plugins/proxy-dhcp/test/gen-golden.ts), then review the diff.
import fs from 'node:fs';
import path from 'node:path';
import { GOLDEN_CASES, answerFor } from './golden-cases';

void (async () => {
  const out: Record<string, string> = {};
  for (const c of GOLDEN_CASES) out[c.name] = (await answerFor(c)).toString('hex');
  fs.writeFileSync(path.join(__dirname, 'fixtures', 'golden.json'), JSON.stringify(out, null, 1) + '\n');
  console.log(Object.keys(out).join('\n'));
})();
