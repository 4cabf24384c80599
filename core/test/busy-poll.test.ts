import dgram from 'node:dgram';
import { expect } from 'chai';
import { BusyPoller } from '@pureboot/core';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('BusyPoller (the event loop keeps polling for a while after a send)', () => {
  it('spins while its window lasts, stops after it, and a later poke starts it again', async () => {
    let now = 1000;
    const p = new BusyPoller(() => now);
    p.poke(0);
    expect(p.active, 'a zero window never spins').to.equal(false);
    p.poke(200); // until 1000.2 ms
    expect(p.active).to.equal(true);
    for (let i = 0; i < 5; i++) await tick();
    expect(p.turns).to.be.greaterThanOrEqual(4);
    now += 0.1;
    p.poke(50); // shorter than what is left: the window is not shortened
    now += 0.15; // 1000.25 > 1000.2
    await tick();
    await tick();
    expect(p.active).to.equal(false);
    const turns = p.turns;
    for (let i = 0; i < 5; i++) await tick();
    expect(p.turns, 'no turns once the window is over').to.equal(turns);
    p.poke(10);
    expect(p.active).to.equal(true);
    now += 1;
    await tick();
    await tick();
    expect(p.active).to.equal(false);
  });

  it('handles datagrams that arrive while it spins, and the loop does not sleep in between', async () => {
    const p = new BusyPoller();
    const rx = dgram.createSocket('udp4');
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    const got: number[] = [];
    rx.on('message', (m) => got.push(m[0]));
    try {
      p.poke(200_000); // 200 ms
      for (let i = 0; i < 20; i++) {
        tx.send(Buffer.from([i]), rx.address().port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
      while (got.length < 20 && p.active) await tick();
      expect(got).to.deep.equal([...Array(20).keys()]);
      expect(p.active).to.equal(true);
      // While spinning, every loop turn runs the spinner: far more turns than datagrams.
      expect(p.turns).to.be.greaterThan(100);
      await new Promise((r) => setTimeout(r, 250));
      expect(p.active).to.equal(false);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
