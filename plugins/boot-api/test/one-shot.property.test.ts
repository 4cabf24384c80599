import { expect } from 'chai';
import fc from 'fast-check';
import { callbackToken } from '../src/auth';
import { startHarness, TOKEN, type Harness } from './support/harness';

type Action =
  | { t: 'boot'; arch: 'pcbios' | 'efi' }
  | { t: 'callback'; event: 'started' | 'progress' | 'installed' | 'failed' }
  | { t: 'advance'; minutes: number }
  | { t: 'api'; to: 'pending' | 'retired' | 'discovered' | 'failed' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('boot' as const), arch: fc.constantFrom('pcbios' as const, 'efi' as const) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('callback' as const), event: fc.constantFrom('started' as const, 'progress' as const, 'installed' as const, 'failed' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 90 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('api' as const), to: fc.constantFrom('pending' as const, 'retired' as const, 'discovered' as const, 'failed' as const) }) },
);

describe('boot-api one-shot netboot: no sequence of boots, callbacks, timeouts and API calls reinstalls twice', () => {
  let h: Harness;
  let n = 0;
  before(async () => {
    h = await startHarness({
      bootApi: { profiles: { p: { kernel: 'k', initrds: ['i'] } }, groups: { all: { profile: 'p' } }, timeouts: { installing: 60 * 60 * 1000, pending: 3 * 60 * 60 * 1000, installed: 2 * 60 * 60 * 1000 } },
    });
  });
  after(() => h.stop());

  it('install scripts served ≤ operator requests to (re)install, per random run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
        n++;
        const mac = `02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
        const hy = mac.replace(/:/g, '-');
        const cb = `/api/v1/nodes/${hy}/events?token=${callbackToken(TOKEN, mac)}`;
        const created = await h.inject({ method: 'POST', url: '/api/v1/nodes', payload: { mac, state: 'pending' } });
        expect(created.statusCode).to.equal(201);
        let requests = 1; // registered as pending = one install requested
        let installs = 0;
        let installsSinceRequest = 0;
        for (const a of actions) {
          if (a.t === 'boot') {
            const r = await h.inject({ method: 'GET', url: `/api/v1/boot?mac=${hy}&buildarch=x86_64&platform=${a.arch}`, auth: false });
            expect(r.statusCode).to.equal(200);
            if (r.body.includes('\nkernel ')) {
              installs++;
              installsSinceRequest++;
              expect(installsSinceRequest, 'a second install script without a new request').to.equal(1);
            }
          } else if (a.t === 'callback') {
            const r = await h.inject({ method: 'POST', url: cb, payload: { event: a.event }, auth: false });
            expect([200, 409]).to.include(r.statusCode);
          } else if (a.t === 'advance') {
            h.clock.advance(a.minutes * 60 * 1000);
            await h.settle();
          } else {
            const r = await h.inject({ method: 'POST', url: `/api/v1/nodes/${hy}/transition`, payload: { to: a.to } });
            expect([200, 409]).to.include(r.statusCode);
            if (r.statusCode === 200 && a.to === 'pending') {
              requests++;
              installsSinceRequest = 0;
            }
          }
        }
        expect(installs).to.be.at.most(requests);
      }),
      { numRuns: 60, seed: 20261122 },
    );
  });
});
