import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import type { Logger } from '@pureboot/core';
import { BootApiError, BootApiErrorCodes } from '../src/errors';
import type { BootApiOptions } from '../src/options';
import { createApp } from '../src/server';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream) as unknown as Logger, lines };
}

function app(requestLogs: boolean, logger: Logger) {
  const o = { requestLogs, bodyLimit: 65536, requestTimeoutMs: 10000, keepAliveTimeoutMs: 5000, trustProxy: false } as BootApiOptions;
  const a = createApp(o, logger, {});
  a.get('/x', async () => 'ok');
  a.get('/fails', async () => {
    throw new Error('boom');
  });
  a.get('/refused', async () => {
    throw new BootApiError(BootApiErrorCodes.INVALID_MAC, 400, 'not a MAC');
  });
  return a;
}

describe('boot-api request logs', () => {
  it('requestLogs on: the incoming, completed and error lines carry their request’s reqId', async () => {
    const { logger, lines } = capture();
    const a = app(true, logger);
    await a.inject('/x');
    expect((await a.inject('/fails')).statusCode).to.equal(500);
    await a.close();
    const boom = lines.find((l) => (l.err as { message?: string } | undefined)?.message === 'boom');
    expect(boom?.reqId).to.be.a('string');
    expect(lines.filter((l) => l.reqId === boom?.reqId).map((l) => l.msg)).to.include.members(['incoming request', 'request completed']);
    const incoming = lines.find((l) => l.msg === 'incoming request');
    const done = lines.find((l) => l.msg === 'request completed');
    expect(incoming?.reqId).to.be.a('string');
    expect(done?.reqId).to.equal(incoming?.reqId);
    expect(done?.responseTime).to.be.a('number');
  });

  it('requestLogs off: a request that succeeds logs nothing; a server error is logged at error, a client error at info', async () => {
    const { logger, lines } = capture();
    const a = app(false, logger);
    expect((await a.inject('/x')).statusCode).to.equal(200);
    expect(lines).to.deep.equal([]);
    expect((await a.inject('/fails')).statusCode).to.equal(500);
    expect((await a.inject('/refused?x=1')).statusCode).to.equal(400);
    await a.close();
    const boom = lines.find((l) => l.msg === 'boom');
    expect(boom).to.include({ level: 50, method: 'GET', url: '/fails', statusCode: 500 });
    expect(boom?.reqId).to.be.a('string');
    expect((boom?.err as { stack?: string }).stack).to.include('boom');
    expect(lines.find((l) => l.msg === 'not a MAC')).to.include({ level: 30, url: '/refused?x=1', statusCode: 400 });
    expect(lines).to.have.length(2);
  });
});
