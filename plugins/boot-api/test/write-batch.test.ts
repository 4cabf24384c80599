import { expect } from 'chai';
import { WriteBatch } from '../src/write-batch';

describe('boot-api: WriteBatch (boot responses written together at the end of the turn)', () => {
  it('runs deferred writes after the current turn, in order, with one setImmediate per batch', async () => {
    const errors: unknown[] = [];
    const b = new WriteBatch((e) => errors.push(e));
    const done: number[] = [];
    b.defer(() => done.push(1));
    b.defer(() => {
      throw new Error('socket gone');
    });
    b.defer(() => done.push(3));
    await Promise.resolve();
    expect(done, 'nothing written within the turn (microtasks included)').to.deep.equal([]);
    await new Promise((r) => setImmediate(r));
    expect(done).to.deep.equal([1, 3]);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['socket gone']);
    b.defer(() => done.push(4));
    await new Promise((r) => setImmediate(r));
    expect(done).to.deep.equal([1, 3, 4]);
  });
});
