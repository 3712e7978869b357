import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { AppConfig, loadConfig, ManualClock } from '@saasready/core';
import { createApiApp } from '../../apps/api/src/app.factory';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  clock: ManualClock;
  /** supertest against the running server */
  http: () => TestAgent;
  /** A raw SQL client on the suite's database (assertions only; never a mock). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  redis?: boolean;
  /** Reuse another TestApp's database (a second API instance). */
  shareDatabaseWith?: TestApp;
}

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** A fresh database (real PostgreSQL) or a fresh embedded DATA_DIR for one suite. */
async function freshDatabase(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'saasready-test-'));
    return { env: { DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `saasready_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), MIGRATIONS_RUN: 'true' },
    drop: async () => {
      const c = new Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const shared = options.shareDatabaseWith;
  const db = shared ? { env: databaseEnvOf(shared.config), drop: async () => undefined } : await freshDatabase();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ENCRYPTION_KEY,
    ISSUER_URL: 'http://saasready.test',
    ARGON2_MEMORY_KIB: '19456',
    // Suites register and sign in many times from one address: per-address limits are off unless a
    // suite turns them on (test/security).
    RATE_LIMIT_LOGIN: '0/1m',
    RATE_LIMIT_REGISTER: '0/1m',
    RATE_LIMIT_REFRESH: '0/1m',
    RATE_LIMIT_PASSWORD: '0/1m',
    RATE_LIMIT_INVITATION_PREVIEW: '0/1m',
    RATE_LIMIT_TWO_FACTOR: '0/1m',
    ...(options.redis && TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
    ...db.env,
    ...options.env,
  };
  const config = loadConfig(env);
  const clock = new ManualClock(Date.now());
  const app = await createApiApp(config, { clock, logRequests: false, swaggerUi: false });
  await app.getHttpAdapter().getInstance().ready();
  const sqlClient = await sqlClientFor(config);
  const server = app.getHttpServer();
  return {
    app,
    config,
    clock,
    http: () => request(server),
    sql: async <T>(text: string, params?: unknown[]) => (await sqlClient.query(text, params)).rows as T[],
    close: async () => {
      await sqlClient.end().catch(() => undefined);
      await app.close();
      await db.drop();
    },
  };
}

function databaseEnvOf(config: AppConfig): Record<string, string> {
  return config.databaseUrl ? { DATABASE_URL: config.databaseUrl, MIGRATIONS_RUN: 'false' } : { DATA_DIR: config.dataDir };
}

async function sqlClientFor(config: AppConfig): Promise<Client> {
  const client = config.databaseUrl
    ? new Client({ connectionString: config.databaseUrl })
    : new Client({ host: config.dataDir, port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  return client;
}
