import type Redis from 'ioredis';

/** One hit's outcome: how many hits in the window, and whether (and how long) the key is blocked. */
export interface ThrottleRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** Fixed-window counters with a block once over the limit (the semantics of @nestjs/throttler's storage). */
export interface RateLimitStore {
  increment(key: string, ttlMs: number, limit: number, blockMs: number, category: string): Promise<ThrottleRecord>;
}

// One round trip, atomic: count the hit in a fixed window; once over the limit, block for blockMs.
const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blockTtl = tonumber(ARGV[3])
end
return { hits, ttl, blockTtl }
`;

/** Redis storage: limits hold across API instances. */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'saasready:ratelimit:',
  ) {}

  async increment(key: string, ttlMs: number, limit: number, blockMs: number, category: string): Promise<ThrottleRecord> {
    const base = `${this.prefix}${category}:${key}`;
    const [hits, ttl, block] = (await this.redis.eval(SCRIPT, 2, `${base}:hits`, `${base}:block`, ttlMs, limit, blockMs || ttlMs)) as [
      number,
      number,
      number,
    ];
    return record(hits, ttl, block);
  }
}

/** In-process storage (embedded mode, one instance). Bounded: expired windows are swept. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { hits: number; expires: number; blockedUntil: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async increment(key: string, ttlMs: number, limit: number, blockMs: number, category: string): Promise<ThrottleRecord> {
    const now = this.now();
    const k = `${category}:${key}`;
    let w = this.windows.get(k);
    if (!w || (w.expires <= now && w.blockedUntil <= now)) {
      if (this.windows.size > 100_000) this.sweep(now);
      w = { hits: 0, expires: now + ttlMs, blockedUntil: 0 };
      this.windows.set(k, w);
    } else if (w.expires <= now) {
      w.hits = 0;
      w.expires = now + ttlMs;
    }
    w.hits++;
    if (w.blockedUntil <= now && w.hits > limit) w.blockedUntil = now + (blockMs || ttlMs);
    return record(w.hits, w.expires - now, Math.max(0, w.blockedUntil - now));
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.expires <= now && w.blockedUntil <= now) this.windows.delete(k);
  }
}

function record(hits: number, ttlMs: number, blockMs: number): ThrottleRecord {
  const isBlocked = blockMs > 0;
  return {
    totalHits: hits,
    timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
    isBlocked,
    timeToBlockExpire: isBlocked ? Math.max(1, Math.ceil(blockMs / 1000)) : 0,
  };
}
