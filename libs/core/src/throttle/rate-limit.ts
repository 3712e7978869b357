import { applyDecorators, CanActivate, ExecutionContext, Global, Inject, Injectable, Module, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { REDIS } from '../cache/redis.module';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-codes';
import { MemoryRateLimitStore, RateLimitStore, RedisRateLimitStore } from './rate-limit.store';

/** The rate-limit categories; each has a per-client-address budget per window (RATE_LIMIT_* in config). */
export type RateLimitCategory = 'login' | 'register' | 'refresh' | 'password' | 'invitation_preview' | 'two_factor';

export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

const RATE_LIMIT = 'saasready:rate-limit';
export const THROTTLER_STORAGE = Symbol('THROTTLER_STORAGE');

/**
 * Per-client-address limits for the routes attackers hammer. The address is Fastify's request.ip, which
 * honours TRUST_PROXY only: a client that rotates X-Forwarded-For without a trusted proxy gains nothing.
 * Storage is Redis when configured (limits hold across instances), else memory. Fixed windows with a
 * block once over the limit, as @nestjs/throttler does; that package itself is CommonJS requiring the
 * ESM @nestjs/common 12, which our ESM Jest runner on Node 20 cannot load, so the guard is ours.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(THROTTLER_STORAGE) private readonly storage: RateLimitStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const category = this.reflector.get<RateLimitCategory | undefined>(RATE_LIMIT, context.getHandler());
    if (!category) return true;
    const rule = this.config.rateLimits[category];
    if (!rule || rule.limit <= 0) return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const record = await this.storage.increment(req.ip ?? 'unknown', rule.windowMs, rule.limit, rule.windowMs, category);
    if (record.isBlocked) {
      const retryAfter = String(Math.max(1, record.timeToBlockExpire));
      context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', retryAfter);
      throw new AppException(429, ErrorCode.RateLimited, 'Too many requests from this address; retry later.', undefined, {
        'Retry-After': retryAfter,
      });
    }
    return true;
  }
}

/** Limits a route per client address (see RateLimitGuard). */
export const RateLimited = (category: RateLimitCategory) =>
  applyDecorators(
    SetMetadata(RATE_LIMIT, category),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({ description: 'Too many requests from this address (rate_limited), with Retry-After.' }),
  );

@Global()
@Module({
  providers: [
    {
      provide: THROTTLER_STORAGE,
      inject: [REDIS],
      useFactory: (redis: Redis | null): RateLimitStore => (redis ? new RedisRateLimitStore(redis) : new MemoryRateLimitStore()),
    },
    RateLimitGuard,
  ],
  exports: [THROTTLER_STORAGE, RateLimitGuard],
})
export class RateLimitModule {}
