import { Writable } from 'node:stream';
import { expect } from 'chai';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import sinon from 'sinon';
import { lazyRequestLoggers } from '../src/request-logger';

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
    // pino's child() is on the prototype every pino logger shares (children are Object.create(parent)).
    const child = sinon.spy(Object.getPrototypeOf(logger) as { child: pino.Logger['child'] }, 'child');
    const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) });
    lazyRequestLoggers(app);
    child.resetHistory(); // fastify's instance logger is a child of the root
    app.get('/quiet', async () => 'ok');
    app.get('/talks', async (request) => {
      request.log.warn({ step: 1 }, 'first');
      request.log.info('second');
      request.log.child({ part: 'p1' }).info('third');
      return 'ok';
    });
    try {
      expect((await app.inject('/quiet')).statusCode).to.equal(200);
      expect(child.callCount).to.equal(0, 'no child for a silent request');
      expect((await app.inject('/talks')).statusCode).to.equal(200);
      expect(child.callCount).to.equal(2, 'one child made on the first line, one for the child logger of the third');
      const first = lines.find((l) => l.msg === 'first');
      const second = lines.find((l) => l.msg === 'second');
      expect(first).to.include({ step: 1, level: 40 });
      expect(first?.reqId).to.be.a('string').and.equal(second?.reqId);
      // A child of a request logger keeps the request's bindings and adds its own.
      expect(lines.find((l) => l.msg === 'third')).to.include({ part: 'p1', reqId: first?.reqId });
    } finally {
      child.restore();
      await app.close();
    }
  });

  it('with request logs on, the incoming, completed and error lines carry their request’s reqId', async () => {
    const { logger, lines } = capture();
    const app = Fastify({ loggerInstance: logger });
    lazyRequestLoggers(app);
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
