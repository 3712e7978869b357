import { Injectable, OnModuleInit } from '@nestjs/common';
import { InvalidationBus, TransactionService, TtlCache } from '@saasready/core';
import { UserEntity } from './user.entity';

/** Emails are trimmed and compared case-insensitively (unique index on lower(email)). */
export function normalizeEmail(email: string): string {
  return email.trim();
}

@Injectable()
export class UserService implements OnModuleInit {
  static readonly TOPIC = 'user';
  private readonly cache = new TtlCache<UserEntity | null>(100_000, 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(UserService.TOPIC, (id) => (id === '*' ? this.cache.clear() : this.cache.delete(id)));
  }

  async findByEmail(email: string): Promise<UserEntity | null> {
    return this.tx
      .repo(UserEntity)
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email: normalizeEmail(email) })
      .getOne();
  }

  /** Fresh from the database. */
  async findById(id: string): Promise<UserEntity | null> {
    return this.tx.repo(UserEntity).findOne({ where: { id } });
  }

  /** From the memory cache (hot path); every change of a user row calls `invalidate`. */
  async findByIdCached(id: string): Promise<UserEntity | null> {
    return this.cache.fill(id, () => this.findById(id), !this.tx.inTransaction());
  }

  async update(
    id: string,
    changes: Partial<Pick<UserEntity, 'fullName' | 'lastOrgId' | 'emailVerifiedAt' | 'passwordHash' | 'twoFactorEnabled' | 'isActive'>>,
    now: Date,
  ): Promise<void> {
    await this.tx.repo(UserEntity).update({ id }, { ...changes, updatedAt: now });
    await this.invalidate(id);
  }

  async invalidate(id: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(UserService.TOPIC, id));
  }
}
