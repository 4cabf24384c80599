import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pureboot, type Clock } from '@pureboot/core';
import { ManualClock } from '@pureboot/core/testing';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';

export const TOKEN = 'test-token-0123456789abcdef';
export const PUBLIC_URL = 'http://198.18.0.1:8080';

export interface Harness {
  k: Pureboot;
  app: FastifyInstance;
  clock: ManualClock;
  dataDir: string;
  port: number;
  inject(opts: InjectOptions & { auth?: boolean }): Promise<LightMyRequestResponse>;
  /** Wait for lifecycle work and notifications started so far. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  bootApi?: Record<string, unknown>;
  plugins?: string[];
  extraConfig?: Record<string, unknown>;
  clock?: Clock;
  start?: boolean;
  configDir?: string;
  logLevel?: string;
  /** Reuse this data dir (a restart); it is then left in place by stop(). */
  dataDir?: string;
}

/** A PureBoot with the real storage-memory plugin and boot-api on 127.0.0.1:<free port>, a manual clock and a temp data dir. */
export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bootapi-'));
  const clock = (o.clock as ManualClock | undefined) ?? new ManualClock(Date.UTC(2026, 0, 1, 12));
  const k = await Pureboot.create({
    config: {
      plugins: ['storage-memory', ...(o.plugins ?? []), 'boot-api'],
      server: { dataDir, logLevel: o.logLevel ?? 'silent' },
      'boot-api': { address: '127.0.0.1', port: 0, token: TOKEN, requestLogs: false, publicUrl: PUBLIC_URL, ...o.bootApi },
      ...o.extraConfig,
    },
    configDir: o.configDir ?? dataDir,
    clock,
    logger: pino({ level: o.logLevel ?? 'silent' }),
  });
  if (o.start !== false) await k.start();
  const app = k.services.http;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    k,
    app,
    clock,
    dataDir,
    port,
    inject: (opts) => {
      const { auth, ...rest } = opts;
      return app.inject({ ...rest, headers: { ...(auth === false ? {} : { authorization: `Bearer ${TOKEN}` }), ...(rest.headers ?? {}) } });
    },
    settle: async () => {
      for (let i = 0; i < 3; i++) {
        await k.services.nodeLifecycle.settled();
        await new Promise((r) => setImmediate(r));
      }
    },
    stop: async () => {
      await k.stop('test done');
      if (!o.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
