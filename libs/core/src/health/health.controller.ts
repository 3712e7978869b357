import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '../cache/redis.module';
import { Public } from '../http/route-access';

type Check = 'ok' | 'error' | 'not_configured';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness and readiness for load balancers and orchestrators. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  @Public()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = { database: 'ok', redis: 'not_configured' };
    try {
      await within(2000, this.dataSource.query('SELECT 1'));
    } catch {
      checks.database = 'error';
    }
    if (this.redis) {
      try {
        await within(2000, this.redis.ping());
        checks.redis = 'ok';
      } catch {
        checks.redis = 'error';
      }
    }
    const ok = !Object.values(checks).includes('error');
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'error', checks };
  }
}
