import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bufferFile, notify, Stage } from '@pureboot/core';
import { requireTools } from '@pureboot/core/testing';
import { parseRange } from '../src/routes/assets';
import { curl } from './support/curl';
import { startHarness, TOKEN, type Harness } from './support/harness';

describe('boot-api assets over HTTP (fileResolve): Range, ETag, HEAD — real socket, curl', () => {
  let h: Harness;
  let data: Buffer;
  let base: string;
  before(async function () {
    requireTools(this, ['curl']);
    h = await startHarness({ start: false });
    fs.mkdirSync(path.join(h.dataDir, 'tftp', 'debian'), { recursive: true });
    data = crypto.randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(h.dataDir, 'tftp', 'debian', 'linux'), data);
    // A plugin answering before the static root with a generated file.
    h.k.hooks.fileResolve.tapPromise({ name: 'test:generated', stage: Stage.DEFAULT }, async (req) =>
      req.path === 'generated/hello.txt' ? bufferFile(Buffer.from(`hello ${req.client.mac ?? 'unknown'}\n`), { etag: '"gen-1"', source: 'test:generated' }) : undefined,
    );
    await h.k.start();
    base = `http://127.0.0.1:${h.app.server.address() && (h.app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    if (h) await h.stop();
  });

  it('whole file: 200, Content-Length, ETag, Accept-Ranges, bytes intact', async () => {
    const r = await curl([], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(200);
    expect(Number(r.headers['content-length'])).to.equal(data.length);
    expect(r.headers.etag).to.match(/^"/);
    expect(r.headers['accept-ranges']).to.equal('bytes');
    expect(r.headers['last-modified']).to.be.a('string');
    expect(crypto.createHash('sha256').update(r.body).digest('hex')).to.equal(crypto.createHash('sha256').update(data).digest('hex'));
  });

  it('Range: start-end, suffix and open-ended give 206 with Content-Range; beyond the end 416', async () => {
    let r = await curl(['-r', '100-1123'], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(206);
    expect(r.headers['content-range']).to.equal(`bytes 100-1123/${data.length}`);
    expect(r.body.equals(data.subarray(100, 1124))).to.equal(true);
    r = await curl(['-r', '-500'], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(206);
    expect(r.body.equals(data.subarray(data.length - 500))).to.equal(true);
    r = await curl(['-r', `${data.length - 10}-`], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(206);
    expect(r.body.equals(data.subarray(data.length - 10))).to.equal(true);
    r = await curl(['-r', `${data.length + 5}-`], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(416);
    expect(r.headers['content-range']).to.equal(`bytes */${data.length}`);
  });

  it('If-None-Match with the ETag: 304; If-Range with an old ETag: the whole file', async () => {
    const first = await curl([], `${base}/api/v1/assets/debian/linux`);
    const r = await curl(['-H', `If-None-Match: ${first.headers.etag}`], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(304);
    expect(r.body.length).to.equal(0);
    const ir = await curl(['-r', '0-9', '-H', 'If-Range: "stale"'], `${base}/api/v1/assets/debian/linux`);
    expect(ir.status).to.equal(200);
    expect(ir.body.length).to.equal(data.length);
  });

  it('HEAD: headers with the real Content-Length, no body', async () => {
    const r = await curl(['-I'], `${base}/api/v1/assets/debian/linux`);
    expect(r.status).to.equal(200);
    expect(Number(r.headers['content-length'])).to.equal(data.length);
    // with -I curl writes the header block as its output: nothing else arrived
    expect(r.body.toString('latin1')).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/);
  });

  it('404 for a missing file, 403 for a path leaving the root', async () => {
    expect((await curl([], `${base}/api/v1/assets/debian/nope`)).status).to.equal(404);
    expect((await curl([], `${base}/api/v1/assets/../../etc/passwd`)).status).to.be.oneOf([403, 404]);
    expect((await curl([], `${base}/api/v1/assets/debian/../../../etc/passwd`)).status).to.equal(403);
  });

  it('a fileResolve tap answers first; the fetch lands in the timeline of the MAC that last DHCPed from that address', async () => {
    const mac = '52:54:00:ab:cd:ef';
    await notify(h.k.hooks.bootEvent, { mac, address: '127.0.0.1', at: h.clock.now(), source: 'dhcp', kind: 'dhcp.ack', detail: { xid: 1 } }, h.k.logger);
    const r = await curl([], `${base}/api/v1/assets/generated/hello.txt`);
    expect(r.status).to.equal(200);
    expect(r.headers.etag).to.equal('"gen-1"');
    expect(r.body.toString()).to.equal(`hello ${mac}\n`);
    // a TFTP event without a MAC is attributed the same way
    await notify(h.k.hooks.bootEvent, { address: '127.0.0.1', at: h.clock.now(), source: 'tftp', kind: 'tftp.done', detail: { file: 'undionly.kpxe', bytes: 1 } }, h.k.logger);
    await h.settle();
    const tl = await curl(['-H', `Authorization: Bearer ${TOKEN}`], `${base}/api/v1/nodes/52-54-00-ab-cd-ef/timeline`);
    const kinds = (JSON.parse(tl.body.toString()) as { events: Array<{ kind: string; detail: { path?: string } }> }).events.map((e) => `${e.kind}${e.detail.path ? ` ${e.detail.path}` : ''}`);
    expect(kinds).to.deep.equal(['dhcp.ack', 'http.asset generated/hello.txt', 'tftp.done']);
  });

  it('parseRange follows RFC 9110 for one range and ignores what it cannot serve', () => {
    expect(parseRange(undefined, 10)).to.deep.equal({ kind: 'none' });
    expect(parseRange('bytes=0-4', 10)).to.deep.equal({ kind: 'range', start: 0, end: 4 });
    expect(parseRange('bytes=5-', 10)).to.deep.equal({ kind: 'range', start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).to.deep.equal({ kind: 'range', start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).to.deep.equal({ kind: 'range', start: 0, end: 9 });
    expect(parseRange('bytes=0-99', 10)).to.deep.equal({ kind: 'range', start: 0, end: 9 });
    expect(parseRange('bytes=10-', 10)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=5-2', 10)).to.deep.equal({ kind: 'none' });
    expect(parseRange('bytes=0-1,3-4', 10)).to.deep.equal({ kind: 'none' });
    expect(parseRange('items=0-1', 10)).to.deep.equal({ kind: 'none' });
  });
});
