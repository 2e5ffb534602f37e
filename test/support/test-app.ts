import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createApp } from '../../src/app.setup';
import { AppConfig, loadConfig } from '../../src/config/app.config';
import { KeyCheckCache } from '../../src/key-cache/key-check.cache';
import { ResponseContract } from './response-contract';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  dataSource: DataSource;
  http: () => ReturnType<typeof request>;
  admin: { Authorization: string };
  /**
   * Runs SQL that edits rows behind the services' back, e.g. to stand in for time passing. No
   * service invalidated anything, so key checks cached before the edit are dropped here.
   */
  editRows(sql: string, params?: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Every rate limit set out of reach, for suites whose subject is not a limit (limits would only turn answers into 429s). */
export const LIMITS_OUT_OF_REACH: Record<string, string> = {
  RATE_LIMIT_STRICT_PER_MINUTE: '1000000',
  RATE_LIMIT_PER_KEY_PER_MINUTE: '1000000',
  RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '1000000',
  MICA_RATE_LIMIT_PER_MINUTE: '1000000',
  MICA_RATE_LIMIT_PER_DAY: '1000000',
};

/** True when the suite runs against a PostgreSQL server (TEST_DATABASE_URL) rather than embedded PGlite. */
export const onPostgresServer = !!process.env.TEST_DATABASE_URL;

/**
 * The real app (createApp → configureApp, as in production) on TEST_DATABASE_URL when set, else on
 * an in-memory embedded database of its own. Tests own their data: each creates fresh instances or
 * accounts, so files may share one server database.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    // Every SQL statement and its parameters are logged (captured, never printed unless
    // TEST_PRINT_LOGS=1), so test/support/secret-scan.ts can prove no secret reaches a log line.
    LOG_LEVEL: 'debug',
    LOG_QUERIES: 'true',
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : { DATA_DIR: 'memory://' }),
    // Suites share one database: only the webhook suites, which set it, send webhooks (a worker of
    // another suite would otherwise attempt their deliveries under its own target policy).
    WEBHOOK_DELIVERY_ENABLED: 'false',
    ...env,
  });
  const app = await createApp(config);
  await app.init();
  const server = app.getHttpServer();
  ResponseContract.for((await request(server).get('/api/docs-json').expect(200)).body).attach(server);
  return {
    app,
    config,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    http: () => request(server),
    admin: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    editRows: async (sql, params) => {
      const result = await app.get<DataSource>(getDataSourceToken()).query(sql, params);
      app.get(KeyCheckCache).clear();
      return result;
    },
    close: () => app.close(),
  };
}

/**
 * A database of its own on the PostgreSQL server, migrated by the first app started on it, for
 * suites that run a webhook delivery worker: a worker claims every due delivery of its database, so
 * one suite's worker (with its own target policy) would otherwise attempt another suite's
 * deliveries. `env` goes into startTestApp; on the embedded database every app has its own already.
 */
export async function ownServerDatabase(tag: string): Promise<{ env: Record<string, string>; url?: string; drop(): Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) return { env: {}, drop: () => Promise.resolve() };
  const name = `trusset_${tag}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
