import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadConfig, loadDotEnv, postgresOptions, EmbeddedPostgres, Clock, InvalidationBus } from '@saasready/core';
import { MIGRATIONS } from '@saasready/migrations';
// Static import: the build rewrites `@saasready/*` paths only in static imports, not in `import()`.
import { KeyService } from '@saasready/auth';
import { ENTITIES } from './api.module';

/** Operator commands: migration:run, migration:revert, keys:rotate. */
async function main(): Promise<void> {
  loadDotEnv();
  const command = process.argv[2];
  const config = loadConfig();
  const server = config.databaseMode === 'embedded' ? EmbeddedPostgres.for(config.dataDir) : undefined;
  const embedded = await server?.start(2);
  const dataSource = new DataSource(postgresOptions(config, ENTITIES, MIGRATIONS, embedded));
  await dataSource.initialize();
  try {
    if (command === 'migration:run') {
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      console.log(ran.length ? `applied: ${ran.map((m) => m.name).join(', ')}` : 'the database is up to date');
    } else if (command === 'migration:revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else if (command === 'keys:rotate') {
      let bus = new InvalidationBus();
      let redis: import('ioredis').default | undefined;
      if (config.redisUrl) {
        const Redis = (await import('ioredis')).default;
        redis = new Redis(config.redisUrl);
        bus = new InvalidationBus(redis);
      }
      const keys = new KeyService(dataSource, new Clock(), bus, config);
      const kid = await keys.rotate();
      console.log(`new signing key ${kid}; the previous key stays in the JWKS for ${config.accessTokenTtlMs / 1000}s`);
      redis?.disconnect();
    } else {
      console.error('usage: cli.js migration:run | migration:revert | keys:rotate');
      process.exitCode = 2;
    }
  } finally {
    await dataSource.destroy();
    await server?.stop();
  }
}

main().catch((e: unknown) => {
  new Logger('cli').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
