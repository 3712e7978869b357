import { Injectable, OnModuleInit } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { AppException, Clock, ErrorCode, InvalidationBus, newId, TransactionService, TtlCache } from '@saasready/core';
import { BuiltInRole, RoleService } from '@saasready/rbac';
import { MembershipEntity } from './membership.entity';
import { MembershipService } from './membership.service';
import { OrgLockService } from './org-lock.service';
import { OrganizationEntity } from './organization.entity';
import { SessionScopeService } from './session-scope.service';
import { slugify } from './slug';

export interface OrgPatch {
  name?: string;
  slug?: string;
  metadata?: Record<string, unknown>;
}

/** An organization with the caller's role name there. */
export interface OrgWithRole {
  org: OrganizationEntity;
  roleName: string;
}

@Injectable()
export class OrganizationService implements OnModuleInit {
  static readonly TOPIC = 'org';
  /** Org rows for reads (GET /orgs/{id}); every write publishes the id on the InvalidationBus after commit. */
  private readonly cache = new TtlCache<OrganizationEntity | null>(50_000, 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly lock: OrgLockService,
    private readonly memberships: MembershipService,
    private readonly roles: RoleService,
    private readonly sessions: SessionScopeService,
    private readonly audit: AuditService,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(OrganizationService.TOPIC, (id) => (id === '*' ? this.cache.clear() : this.cache.delete(id)));
  }

  /**
   * Creates an org and the creator's Owner membership in one transaction. Without a slug, one is
   * derived from the name and made unique; a given slug that is taken is 409 slug_taken.
   * The creator's sessions keep their scope.
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

  /**
   * The org for reads, from memory when this instance has read it before (the result must not be
   * mutated). Updates and deletes of any instance reach every instance's cache after their commit.
   */
  async findCached(id: string): Promise<OrganizationEntity | null> {
    return this.cache.fill(id, () => this.findById(id), !this.tx.inTransaction());
  }

  private async invalidate(orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(OrganizationService.TOPIC, orgId));
  }

  /** The user's oldest membership's org (for a new session's scope). */
  async oldestMembershipOrg(userId: string): Promise<string | null> {
    const row = await this.tx.repo(MembershipEntity).findOne({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return row?.orgId ?? null;
  }

  /** The user's organizations in id (creation) order, after `afterId`; `limit + 1` rows tell whether more follow. */
  async listForUser(userId: string, page: { limit: number; afterId: string | null }): Promise<OrgWithRole[]> {
    const rows: (Record<string, unknown> & { role_name: string })[] = await this.tx.manager().query(
      `SELECT o.id, o.name, o.slug, o.metadata, o.created_at, o.updated_at, r.name AS role_name
         FROM memberships m
         JOIN organizations o ON o.id = m.org_id
         JOIN roles r ON r.id = m.role_id
        WHERE m.user_id = $1 AND ($2::uuid IS NULL OR o.id > $2::uuid)
        ORDER BY o.id
        LIMIT $3`,
      [userId, page.afterId, page.limit + 1],
    );
    return rows.map((r) => ({
      org: {
        id: r.id as string,
        name: r.name as string,
        slug: r.slug as string,
        metadata: (r.metadata ?? {}) as Record<string, unknown>,
        createdAt: new Date(r.created_at as string),
        updatedAt: new Date(r.updated_at as string),
      },
      roleName: r.role_name,
    }));
  }

  /**
   * Name, slug (409 slug_taken) and metadata (replaced whole); only the fields that differ. A change
   * writes `org.updated` (the fields changed; old and new name and slug, never metadata values) in the
   * same transaction; a request that changes nothing writes nothing.
   */
  async update(orgId: string, patch: OrgPatch): Promise<OrganizationEntity> {
    return this.tx.run(async () => {
      const repo = this.tx.repo(OrganizationEntity);
      const org = await repo.findOne({ where: { id: orgId } });
      if (!org) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
      const next: Partial<OrganizationEntity> = {};
      if (patch.name !== undefined && patch.name !== org.name) next.name = patch.name;
      if (patch.slug !== undefined && patch.slug !== org.slug) next.slug = patch.slug;
      if (patch.metadata !== undefined && !isDeepStrictEqual(patch.metadata, org.metadata)) next.metadata = patch.metadata;
      const fields = Object.keys(next);
      if (fields.length === 0) return org;
      next.updatedAt = this.clock.now();
      if (next.slug !== undefined) {
        const clash = await repo.exists({ where: { slug: next.slug } });
        if (clash) throw AppException.conflict(ErrorCode.SlugTaken, `The slug "${next.slug}" is taken.`);
      }
      try {
        await this.tx.manager().query(
          `UPDATE organizations
              SET name = COALESCE($2, name), slug = COALESCE($3, slug), metadata = COALESCE($4::jsonb, metadata), updated_at = $5
            WHERE id = $1`,
          [orgId, next.name ?? null, next.slug ?? null, next.metadata === undefined ? null : JSON.stringify(next.metadata), next.updatedAt],
        );
      } catch (e) {
        if ((e as { code?: string }).code === '23505')
          throw AppException.conflict(ErrorCode.SlugTaken, `The slug "${next.slug}" is taken.`);
        throw e;
      }
      await this.invalidate(orgId);
      await this.audit.record({
        action: AuditAction.OrgUpdated,
        targetType: AuditTargetType.Org,
        targetId: orgId,
        orgId,
        metadata: {
          fields,
          ...(next.name !== undefined ? { name: { old: org.name, new: next.name } } : {}),
          ...(next.slug !== undefined ? { slug: { old: org.slug, new: next.slug } } : {}),
        },
      });
      return { ...org, ...next };
    });
  }

  /**
   * Deletes the org. The database cascades its memberships and custom roles (and invitations, flags,
   * keys as they arrive); sessions scoped to it become unscoped (FK ON DELETE SET NULL). Caches of every
   * instance drop what they held about it after commit. Writes `org.deleted` (with the org's name and
   * slug, the only readable trace once it is gone) in the same transaction; audit rows have no FK to
   * the org, so they stay.
   */
  async delete(orgId: string): Promise<void> {
    await this.tx.run(async (m) => {
      await this.lock.lock(orgId);
      const [org]: { name: string; slug: string }[] = await m.query(`SELECT name, slug FROM organizations WHERE id = $1`, [orgId]);
      const customRoles: { id: string }[] = await m.query(`SELECT id FROM roles WHERE org_id = $1`, [orgId]);
      const scopedUsers = await this.sessions.usersScopedTo(orgId);
      await m.query(`DELETE FROM organizations WHERE id = $1`, [orgId]);
      await this.invalidate(orgId);
      await this.memberships.invalidateOrg(orgId);
      for (const r of customRoles) await this.roles.invalidate(r.id);
      await this.sessions.invalidateUsers(scopedUsers);
      await this.audit.record({
        action: AuditAction.OrgDeleted,
        targetType: AuditTargetType.Org,
        targetId: orgId,
        orgId,
        metadata: { name: org.name, slug: org.slug },
      });
    });
  }
}
