import 'reflect-metadata';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, loadDotEnv } from '@saasready/core';
import { createApiApp } from './app.factory';

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
  const url = `http://localhost:${config.port}`;
  if (config.databaseMode === 'embedded') {
    process.stdout.write(
      `\n  SaaSReady is running in EMBEDDED mode on ${url} (API at ${url}/api/v1, docs at ${url}/docs).\n` +
        `  Data: embedded PostgreSQL (PGlite) in ${config.dataDir}; jobs run in-process; mail goes to the log.\n` +
        `  For production set DATABASE_URL (PostgreSQL), REDIS_URL and ENCRYPTION_KEY, run \`npm run migration:run\`,\n` +
        `  and run the worker with \`npm run start:worker\`. See README.md.\n\n`,
    );
  } else {
    process.stdout.write(`SaaSReady API listening on ${url} (PostgreSQL mode${config.redisUrl ? ', Redis' : ', no Redis'})\n`);
  }
  // Signals are handled here, not by Nest's shutdown hooks: Nest would run the providers' destroy and
  // before-shutdown hooks (Redis subscriber, mail delivery) while requests are still in flight, and then
  // re-raise the signal, racing the exit code. Ours: drain HTTP first, then close the app, then exit 0.
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`${signal} received: finishing in-flight requests and closing\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`shutdown took longer than SHUTDOWN_TIMEOUT (${config.shutdownTimeoutMs} ms): exiting\n`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    drainHttp(app.getHttpServer() as Server)
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          process.stderr.write(`shutdown failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Stops accepting connections and resolves once every in-flight request has been answered. Keep-alive
 * connections are closed as soon as they are idle (Node closes idle ones only once, when close() is
 * called; a connection whose request was in flight would otherwise hold the shutdown until its
 * keep-alive timeout).
 */
function drainHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(reaper);
      resolve();
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`SaaSReady failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
