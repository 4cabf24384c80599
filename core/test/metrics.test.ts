import { expect } from 'chai';
import { Registry } from 'prom-client';
import { FastCounter } from '@pureboot/core';

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

  it('one counter per registry and name: a second plugin instance adds to the same series', () => {
    const registry = new Registry();
    const a = FastCounter.in(registry, { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const });
    const b = FastCounter.in(registry, { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const });
    expect(a).to.equal(b);
    expect(FastCounter.in(new Registry(), { name: 'pb_test_shared_total', help: 'test', labelNames: ['k'] as const })).to.not.equal(a);
  });
});
