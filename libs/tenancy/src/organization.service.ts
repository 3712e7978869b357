import { Injectable } from '@nestjs/common';
import { AppException, Clock, ErrorCode, newId, TransactionService } from '@saasready/core';
import { BuiltInRole } from '@saasready/rbac';
import { MembershipEntity } from './membership.entity';
import { OrganizationEntity } from './organization.entity';
import { slugify } from './slug';

@Injectable()
export class OrganizationService {
  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates an org and the creator's Owner membership in one transaction. Without a slug, one is
   * derived from the name and made unique; a given slug that is taken is 409 slug_taken.
   */
  async createWithOwner(
    input: { name: string; slug?: string; metadata?: Record<string, unknown> },
    ownerId: string,
  ): Promise<OrganizationEntity> {
    return this.tx.run(async (m) => {
      const now = this.clock.now();
      const org = m.create(OrganizationEntity, {
        id: newId(),
        name: input.name,
        slug: '',
        metadata: input.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      });
      // A derived slug that a concurrent request took meanwhile is derived again; a chosen one is 409.
      for (let attempt = 0; ; attempt++) {
        org.slug = input.slug ?? (await this.uniqueSlug(slugify(input.name), attempt));
        const inserted = await m
          .createQueryBuilder()
          .insert()
          .into(OrganizationEntity)
          .values(org as never)
          .orIgnore()
          .returning(['id'])
          .execute();
        if (inserted.raw.length > 0) break;
        if (input.slug !== undefined || attempt >= 5) throw AppException.conflict(ErrorCode.SlugTaken, `The slug "${org.slug}" is taken.`);
      }
      await m.insert(MembershipEntity, { id: newId(), orgId: org.id, userId: ownerId, roleId: BuiltInRole.Owner.id, createdAt: now });
      return org;
    });
  }

  private async uniqueSlug(base: string, attempt = 0): Promise<string> {
    if (attempt > 2) return `${base}-${newId().slice(-8)}`;
    const rows: { slug: string }[] = await this.tx
      .manager()
      .query(`SELECT slug FROM organizations WHERE slug = $1 OR slug LIKE $2`, [base, `${base.replace(/[%_\\]/g, '\\$&')}-%`]);
    const taken = new Set(rows.map((r) => r.slug));
    if (!taken.has(base)) return base;
    for (let i = 2; i < 10_000; i++) {
      const candidate = `${base}-${i}`;
      if (!taken.has(candidate)) return candidate;
    }
    return `${base}-${newId().slice(-12)}`;
  }

  async findById(id: string): Promise<OrganizationEntity | null> {
    return this.tx.repo(OrganizationEntity).findOne({ where: { id } });
  }

  /** The user's oldest membership's org (for a new session's scope). */
  async oldestMembershipOrg(userId: string): Promise<string | null> {
    const row = await this.tx.repo(MembershipEntity).findOne({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return row?.orgId ?? null;
  }
}
