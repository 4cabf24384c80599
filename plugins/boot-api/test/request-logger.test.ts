import { Writable } from 'node:stream';
import { expect } from 'chai';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import sinon from 'sinon';
import { lazyChildLoggerFactory } from '../src/request-logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('boot-api request loggers (made on first use)', () => {
  it('a request that logs nothing makes no pino child; one that logs gets its reqId on every line', async () => {
    const { logger, lines } = capture();
    const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: lazyChildLoggerFactory });
    app.get('/quiet', async () => 'ok');
    app.get('/talks', async (request) => {
      request.log.warn({ step: 1 }, 'first');
      request.log.info('second');
      return 'ok';
    });
    const child = sinon.spy(logger, 'child');
    try {
      expect((await app.inject('/quiet')).statusCode).to.equal(200);
      expect(child.callCount).to.equal(0, 'no child for a silent request');
      expect((await app.inject('/talks')).statusCode).to.equal(200);
      expect(child.callCount).to.equal(1, 'one child, made on the first line');
      const first = lines.find((l) => l.msg === 'first');
      const second = lines.find((l) => l.msg === 'second');
      expect(first).to.include({ step: 1, level: 40 });
      expect(first?.reqId).to.be.a('string').and.equal(second?.reqId);
    } finally {
      child.restore();
      await app.close();
    }
  });

  it('with request logs on, the incoming, completed and error lines carry their request’s reqId', async () => {
    const { logger, lines } = capture();
    const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLoggerFactory });
    app.get('/x', async () => 'ok');
    app.get('/fails', async () => {
      throw new Error('boom');
    });
    await app.inject('/x');
    expect((await app.inject('/fails')).statusCode).to.equal(500);
    await app.close();
    const boom = lines.find((l) => (l.err as { message?: string } | undefined)?.message === 'boom');
    expect(boom?.reqId).to.be.a('string');
    expect(lines.filter((l) => l.reqId === boom?.reqId).map((l) => l.msg)).to.include.members(['incoming request', 'request completed']);
    const incoming = lines.find((l) => l.msg === 'incoming request');
    const done = lines.find((l) => l.msg === 'request completed');
    expect(incoming?.reqId).to.be.a('string');
    expect(done?.reqId).to.equal(incoming?.reqId);
    expect(done?.responseTime).to.be.a('number');
  });
});
