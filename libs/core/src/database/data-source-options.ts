import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { AppConfig } from '../config/config';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function | string | EntitySchema>;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type MigrationList = MixedList<Function | string>;

export const MIGRATIONS_TABLE = 'schema_migrations';

/** TypeORM options for PostgreSQL; `synchronize` is never on. */
export function postgresOptions(
  config: Pick<AppConfig, 'databaseUrl' | 'databasePoolSize' | 'databaseMode'>,
  entities: EntityList,
  migrations: MigrationList,
  embedded?: { host: string; port: number },
): DataSourceOptions {
  const connection = embedded
    ? { host: embedded.host, port: embedded.port, username: 'postgres', database: 'postgres' }
    : { url: config.databaseUrl };
  return {
    type: 'postgres',
    ...connection,
    entities,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    extra: {
      // PGlite is one backend. pglite-socket serializes transactions but, outside one, interleaves the
      // Parse/Bind/Execute messages of concurrent connections (the unnamed portal gets clobbered), so
      // the embedded mode uses exactly one connection; requests queue for it.
      max: embedded ? 1 : config.databasePoolSize,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'saasready',
    },
  };
}
