import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig, AppException, ErrorCode } from '@saasready/core';
import { isCommonPassword } from './common-passwords';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** NFKC, as API.md says; then compared exactly (no trimming, no case folding). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** At most `size` tasks at once; the rest wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * argon2id hashing (OWASP: m=19456 KiB, t=2, p=1 or stronger; configurable). argon2 runs on libuv's
 * thread pool, off the event loop, at most ARGON2_CONCURRENCY hashes at once (default: one per CPU).
 * More in flight would not finish sooner: they would time-slice the same CPUs with 19 MiB each,
 * thrashing the caches, and take every pool thread from file and DNS work.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash = '';
  private readonly slots: Semaphore;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.slots = new Semaphore(config.argon2.concurrency);
  }

  async onModuleInit(): Promise<void> {
    // Verified against for unknown emails, so they cost the same time as a wrong password.
    this.dummyHash = await this.hashNormalized(randomBytes(16).toString('hex'));
  }

  /** Length and common-password policy; throws 400 validation_failed / password_too_weak. */
  assertAcceptable(password: string, field = 'password'): string {
    const normalized = normalizePassword(password);
    const length = [...normalized].length;
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
      throw AppException.validation([{ field, message: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` }]);
    }
    if (isCommonPassword(normalized)) {
      throw new AppException(400, ErrorCode.PasswordTooWeak, 'This password is too common; choose another.', [
        { field, message: 'is on the list of common passwords' },
      ]);
    }
    return normalized;
  }

  async hash(password: string): Promise<string> {
    return this.hashNormalized(normalizePassword(password));
  }

  private hashNormalized(normalized: string): Promise<string> {
    const { memoryCost, timeCost, parallelism } = this.config.argon2;
    return this.slots.run(() => argon2.hash(normalized, { type: argon2.argon2id, memoryCost, timeCost, parallelism }));
  }

  /** Verifies; with no hash (unknown user) burns the same time and answers false. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const normalized = normalizePassword(password);
    if (!hash) {
      await this.slots.run(() => argon2.verify(this.dummyHash, normalized)).catch(() => false);
      return false;
    }
    try {
      return await this.slots.run(() => argon2.verify(hash, normalized));
    } catch {
      return false;
    }
  }
}
