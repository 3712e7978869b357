import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig, AppException, Clock, ErrorCode, REDIS } from '@saasready/core';

/** What is counted: failed passwords and failed second factors, separately. */
export type LockoutKind = 'password' | 'two_factor';

interface LockState {
  failures: number; // consecutive
  lockedUntil: number; // epoch ms
  locks: number; // locks so far (the delay doubles with each)
  hourStart: number;
  hourFailures: number;
}

/** At most this many failures per account per hour, whatever the lock policy. */
const MAX_FAILURES_PER_HOUR = 100;
const HOUR = 3_600_000;
const STATE_TTL_MS = 24 * HOUR;

// Same policy as `applyFailure`, atomically in Redis (time comes from the app's Clock, in ARGV[1]).
const FAIL_SCRIPT = `
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local maxMs = tonumber(ARGV[4])
local perHour = tonumber(ARGV[5])
local v = redis.call('HMGET', KEYS[1], 'f', 'u', 'l', 'hs', 'hf')
local f = tonumber(v[1]) or 0
local u = tonumber(v[2]) or 0
local l = tonumber(v[3]) or 0
local hs = tonumber(v[4]) or now
local hf = tonumber(v[5]) or 0
if now - hs >= 3600000 then hs = now; hf = 0 end
f = f + 1
hf = hf + 1
if f >= threshold then
  l = l + 1
  local d = base * (2 ^ (l - 1))
  if d > maxMs then d = maxMs end
  u = now + d
  f = 0
end
if hf >= perHour and u < hs + 3600000 then u = hs + 3600000 end
redis.call('HSET', KEYS[1], 'f', f, 'u', u, 'l', l, 'hs', hs, 'hf', hf)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return tostring(u)
`;

/**
 * Account lockout against password guessing (and 2FA code guessing), from any number of addresses:
 * LOCKOUT_THRESHOLD consecutive failures lock the account for LOCKOUT_BASE, doubling with each further
 * lock up to LOCKOUT_MAX; at most 100 failures an hour. While locked, every attempt (right or wrong)
 * gets the same 429 account_locked with Retry-After. Never permanent; a success or a password reset
 * clears it. Unknown emails are counted the same way, so the answers do not reveal which accounts exist.
 * State is in Redis when configured (shared by every instance), else in memory.
 */
@Injectable()
export class LoginLockoutService {
  private readonly memory = new Map<string, LockState>();

  constructor(
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  private key(kind: LockoutKind, subject: string): string {
    return `saasready:lockout:${kind}:${subject.trim().toLowerCase()}`;
  }

  /**
   * Throws 429 account_locked while the subject (an email, or a user id for 2FA) is locked for any of
   * the kinds (several kinds: one Redis round trip).
   */
  async assertNotLocked(kinds: LockoutKind | LockoutKind[], subject: string): Promise<void> {
    const now = this.clock.nowMs();
    const until = await this.lockedUntil(kinds, subject);
    if (until > now) throw lockedError(Math.ceil((until - now) / 1000));
  }

  /** The latest lock end (epoch ms) of the subject over the kinds; 0 when none is locked. */
  async lockedUntil(kinds: LockoutKind | LockoutKind[], subject: string): Promise<number> {
    const keys = (Array.isArray(kinds) ? kinds : [kinds]).map((k) => this.key(k, subject));
    if (!this.redis) return Math.max(0, ...keys.map((key) => this.memory.get(key)?.lockedUntil ?? 0));
    if (keys.length === 1) return Number((await this.redis.hget(keys[0], 'u')) ?? 0);
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hget(key, 'u');
    const results = (await pipeline.exec()) ?? [];
    return Math.max(
      0,
      ...results.map(([err, value]) => {
        if (err) throw err;
        return Number(value ?? 0);
      }),
    );
  }

  /** Counts a failure; returns the epoch ms until which the subject is now locked (0: not locked). */
  async recordFailure(kind: LockoutKind, subject: string): Promise<number> {
    const key = this.key(kind, subject);
    const now = this.clock.nowMs();
    const { threshold, baseMs, maxMs } = this.config.lockout;
    if (this.redis) {
      const until = await this.redis.eval(FAIL_SCRIPT, 1, key, now, threshold, baseMs, maxMs, MAX_FAILURES_PER_HOUR, STATE_TTL_MS);
      return Number(until);
    }
    const state = this.memory.get(key) ?? { failures: 0, lockedUntil: 0, locks: 0, hourStart: now, hourFailures: 0 };
    applyFailure(state, now, threshold, baseMs, maxMs);
    this.memory.set(key, state);
    if (this.memory.size > 100_000) this.sweep(now);
    return state.lockedUntil;
  }

  /** A success clears the consecutive count and the lock history (of each kind given: one round trip). */
  async clear(kinds: LockoutKind | LockoutKind[], subject: string): Promise<void> {
    const keys = (Array.isArray(kinds) ? kinds : [kinds]).map((k) => this.key(k, subject));
    if (this.redis) await this.redis.del(...keys);
    else for (const key of keys) this.memory.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, v] of this.memory) if (v.lockedUntil < now && now - v.hourStart > STATE_TTL_MS) this.memory.delete(k);
  }
}

export function applyFailure(state: LockState, now: number, threshold: number, baseMs: number, maxMs: number): void {
  if (now - state.hourStart >= HOUR) {
    state.hourStart = now;
    state.hourFailures = 0;
  }
  state.failures++;
  state.hourFailures++;
  if (state.failures >= threshold) {
    state.locks++;
    state.lockedUntil = now + Math.min(baseMs * 2 ** (state.locks - 1), maxMs);
    state.failures = 0;
  }
  if (state.hourFailures >= MAX_FAILURES_PER_HOUR) state.lockedUntil = Math.max(state.lockedUntil, state.hourStart + HOUR);
}

export function lockedError(retryAfterSeconds: number): AppException {
  const retryAfter = String(Math.max(1, retryAfterSeconds));
  return new AppException(429, ErrorCode.AccountLocked, 'Too many failed attempts: this account is temporarily locked.', undefined, {
    'Retry-After': retryAfter,
  });
}
