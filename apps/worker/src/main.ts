import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, createPino, loadConfig, loadDotEnv, PinoLogger } from '@saasready/core';
import { WorkerModule } from './worker.module';

/** The background worker (production mode): same libs as the API, no HTTP routes. */
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
  if (!config.redisUrl) {
    process.stderr.write(
      'Invalid configuration:\n  REDIS_URL: the worker consumes the Redis queues (without Redis the API delivers email itself)\n',
    );
    process.exit(78);
  }
  const logger = new PinoLogger(createPino(config.logLevel));
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ config }), { logger });
  // SIGTERM/SIGINT: stop taking jobs, finish the current ones (BullMQ Worker.close), then close the
  // database and Redis. A job cut short by a harder kill is picked up again by another worker (its lock expires).
  app.enableShutdownHooks();
  logger.log('SaaSReady worker started', 'Worker');
}

main().catch((e: unknown) => {
  process.stderr.write(`SaaSReady worker failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
