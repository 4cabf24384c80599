import { expect } from 'chai';
import { skipOrFail } from '@pureboot/core/testing';
import { serializeAck, serializeRequest } from '../src/codec/packet';
import { nativeUdp, nativeUdpProblem } from '../src/transport/native-udp';
import { makeFile, startTftp, until, type TftpHarness } from './support/harness';
import { RawClient } from './support/raw';

const PORT = 16930;
const POOL = 8;

/** One whole transfer of tiny.bin (one block) from a fresh client port: the server's TID. */
async function fetchTiny(c: RawClient): Promise<number> {
  c.send(serializeRequest('RRQ', 'tiny.bin', 'octet'), PORT);
  const d = await c.next();
  expect(d?.packet).to.include({ op: 'DATA', block: 1 });
  c.send(serializeAck(1), d!.port);
  return d!.port;
}

describe('tftp: the transfer socket pool (tftp.socketPool, native transport)', function () {
  this.timeout(20000);
  let h: TftpHarness | undefined;
  let base = 0;
  const clients: RawClient[] = [];

  before(function () {
    if (!nativeUdp()) skipOrFail(this, `native UDP addon: ${nativeUdpProblem()}`);
  });
  beforeEach(() => {
    base = nativeUdp()!.openCount();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h?.stop();
    h = undefined;
  });
  const raw = async () => {
    const c = await RawClient.open();
    clients.push(c);
    return c;
  };

  it('keeps the pool open, gives every transfer a socket no transfer had before, and closes used ones once quiet', async () => {
    h = await startTftp({ port: PORT, tftp: { transport: 'native', socketPool: POOL } });
    makeFile(h.root, 'tiny.bin', 100);
    expect(nativeUdp()!.openCount() - base).to.equal(1 + POOL); // the listener and the pool
    const tids = new Set<number>();
    for (let i = 0; i < POOL + 4; i++) tids.add(await fetchTiny(await raw())); // more transfers than the pool holds
    expect(tids.size).to.equal(POOL + 4);
    await until(() => h!.server.activeTransfers === 0, 2000, 'the transfers to end');
    // Used sockets are closed, and the pool refilled, once the server has been quiet for 50 ms.
    await until(() => nativeUdp()!.openCount() - base === 1 + POOL, 2000, 'the pool to be refilled and used sockets closed');
    for (let i = 0; i < 3; i++) expect(tids.has(await fetchTiny(await raw())), 'a TID used again').to.equal(false);
  });

  it('a finished transfer\'s socket answers nothing, while it waits to be closed', async () => {
    h = await startTftp({ port: PORT, tftp: { transport: 'native', socketPool: POOL } });
    makeFile(h.root, 'tiny.bin', 100);
    const c = await raw();
    const tid = await fetchTiny(c);
    await until(() => h!.server.activeTransfers === 0, 2000, 'the transfer to end');
    c.send(serializeAck(1), tid); // a retransmitted final ACK
    c.send(serializeRequest('RRQ', 'tiny.bin', 'octet'), tid); // a request to the wrong port
    expect(await c.collect(30)).to.have.length(0);
    // And the server goes on serving.
    expect(tid).to.not.equal(await fetchTiny(await raw()));
  });

  it('stop closes every socket, pooled and used; socketPool 0 opens one per transfer and closes it at its end', async () => {
    h = await startTftp({ port: PORT, tftp: { transport: 'native', socketPool: POOL } });
    makeFile(h.root, 'tiny.bin', 100);
    await fetchTiny(await raw());
    await h.stop();
    h = undefined;
    expect(nativeUdp()!.openCount()).to.equal(base);
    h = await startTftp({ port: PORT, tftp: { transport: 'native', socketPool: 0 } });
    makeFile(h.root, 'tiny.bin', 100);
    expect(nativeUdp()!.openCount() - base).to.equal(1);
    await fetchTiny(await raw());
    await until(() => h!.server.activeTransfers === 0, 2000, 'the transfer to end');
    expect(nativeUdp()!.openCount() - base).to.equal(1);
  });
});
