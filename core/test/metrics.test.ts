import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '@pureboot/core';

describe('core FastCounter', () => {
  it('hands its totals to prom-client when the registry is read, per label set', async () => {
    const registry = new Registry();
    const c = FastCounter.in(registry, { name: 'pb_test_packets_total', help: 'test', labelNames: ['type', 'link'] as const });
    c.inc({ type: 'DISCOVER', link: 'a' });
    c.inc({ type: 'DISCOVER', link: 'a' }, 2);
    c.inc({ type: 'REQUEST', link: 'b' });
    const text = await registry.metrics();
    expect(text).to.include('pb_test_packets_total{type="DISCOVER",link="a"} 3');
    expect(text).to.include('pb_test_packets_total{type="REQUEST",link="b"} 1');
    c.inc({ type: 'REQUEST', link: 'b' });
    const values = (await registry.getSingleMetric('pb_test_packets_total')?.get())?.values ?? [];
    expect(values.find((v) => v.labels.type === 'REQUEST')?.value, 'a second read sees later increments, not a sum of reads').to.equal(2);
    expect(values.find((v) => v.labels.type === 'DISCOVER')?.value).to.equal(3);
  });

  it('shows exactly what prom-client\'s own Counter shows, with 0, 1 and 3 labels (any values)', async () => {
    const values = ['active', 'x86_64-efi', '', 'a\u0000b', 'é', 'local'];
    for (const labelNames of [[], ['kind'], ['state', 'arch', 'kind']] as const) {
      const fastReg = new Registry();
      const refReg = new Registry();
      const fast = FastCounter.in(fastReg, { name: 'pb_test_same_total', help: 'test', labelNames });
      const ref = new Counter({ name: 'pb_test_same_total', help: 'test', labelNames, registers: [refReg] });
      for (let i = 0; i < 500; i++) {
        const labels = Object.fromEntries(labelNames.map((l, k) => [l, values[(i * (k + 3) + k) % values.length]])) as Record<(typeof labelNames)[number], string>;
        fast.inc(labels, 1 + (i % 3));
        ref.inc(labels, 1 + (i % 3));
      }
      const sorted = (t: string) => t.split('\n').sort().join('\n');
      expect(sorted(await fastReg.metrics())).to.equal(sorted(await refReg.metrics()));
    }
  });

  it('one counter per registry and name: a second plugin instance adds to the same series', () => {
    const registry = new Registry();
    const a = FastCounter.in(registry, { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const });
    const b = FastCounter.in(registry, { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const });
    expect(a).to.equal(b);
    expect(FastCounter.in(new Registry(), { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const })).to.not.equal(a);
  });
});

describe('core FastHistogram', () => {
  it('shows exactly what prom-client\'s own Histogram shows for the same observations', async () => {
    const buckets = [0.0005, 0.001, 0.0025, 0.01, 0.1, 1];
    const fastReg = new Registry();
    const refReg = new Registry();
    const fast = new FastHistogram({ name: 'pb_test_seconds', help: 'test', labelNames: ['kind'] as const, buckets }, fastReg);
    const ref = new Histogram({ name: 'pb_test_seconds', help: 'test', labelNames: ['kind'] as const, buckets, registers: [refReg] });
    const values = [0, 0.0005, 0.0004, 0.00051, 0.001, 0.2, 1, 1.5, 42, 0.003, 0.0099];
    values.forEach((v, i) => {
      const kind = i % 3 === 0 ? 'local' : 'install';
      fast.observe({ kind }, v);
      ref.observe({ kind }, v);
    });
    const lines = (t: string) => t.split('\n').sort();
    expect(lines(await fastReg.metrics())).to.deep.equal(lines(await refReg.metrics()));
    fast.observe({ kind: 'local' }, 0.002);
    ref.observe({ kind: 'local' }, 0.002);
    expect(lines(await fastReg.metrics()), 'a second read shows later observations').to.deep.equal(lines(await refReg.metrics()));
    const got = await fastReg.getSingleMetric('pb_test_seconds')?.get();
    expect((got?.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>).find((v) => v.metricName === 'pb_test_seconds_count' && v.labels.kind === 'local')?.value).to.equal(5);
  });
});
