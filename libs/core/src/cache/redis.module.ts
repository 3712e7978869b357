import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { InvalidationBus } from './invalidation-bus';

export const REDIS = Symbol('REDIS');

@Injectable()
class RedisConnections implements OnApplicationShutdown {
  readonly clients: Redis[] = [];
  private readonly logger = new Logger('Redis');
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  create(name: string): Redis | undefined {
    if (!this.config.redisUrl) return undefined;
    const client = new Redis(this.config.redisUrl, {
      connectionName: `saasready:${name}`,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
    });
    client.on('error', (e) => this.logger.warn(`${name}: ${e.message}`));
    this.clients.push(client);
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

/** Redis when REDIS_URL is set (the `REDIS` token is then an ioredis client, else undefined) and the InvalidationBus. */
@Global()
@Module({
  providers: [
    RedisConnections,
    { provide: REDIS, inject: [RedisConnections], useFactory: (c: RedisConnections) => c.create('main') ?? null },
    {
      provide: InvalidationBus,
      inject: [RedisConnections, REDIS],
      useFactory: (c: RedisConnections, main: Redis | null) => new InvalidationBus(main ?? undefined, c.create('subscriber')),
    },
  ],
  exports: [REDIS, InvalidationBus],
})
export class RedisModule {}
