import { Injectable, OnModuleInit } from '@nestjs/common';
import { Clock, InvalidationBus, TransactionService, TtlCache } from '@saasready/core';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { Permission } from '@saasready/rbac';
import { OrgLockService } from '@saasready/tenancy';
import { evaluateFlag, FlagSource } from './evaluation';
import { FeatureFlagEntity, OrgFeatureFlagEntity } from './feature-flag.entity';

/** A global definition. */
export interface FlagDefinition {
  key: string;
  description: string;
  defaultEnabled: boolean;
  rolloutPercent: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FlagDefinitionInput {
  description?: string;
  defaultEnabled: boolean;
  rolloutPercent?: number | null;
}

/** A flag's value for one organization, and where it comes from. */
export interface EffectiveFlag {
  key: string;
  enabled: boolean;
  source: FlagSource;
  /** When the deciding row (the override, else the definition) last changed; null for an undefined key. */
  updatedAt: Date | null;
}

interface OrgOverride {
  enabled: boolean;
  updatedAt: Date;
}

/** Who makes a change: a signed-in member (re-checked under the org lock), or nobody (host code, scripts). */
export interface FlagWriter {
  userId: string;
}

const TTL_MS = 60_000;
const DEFINITIONS = 'definitions';

/**
 * Feature flags: evaluation from memory (the definitions and each org's overrides are cached, and every
 * change invalidates them on every instance through the InvalidationBus after its commit), and the
 * writes, each in one transaction with its `flag.updated` audit row.
 */
@Injectable()
export class FlagsService implements OnModuleInit {
  static readonly TOPIC = 'flags';
  private readonly definitionsCache = new TtlCache<ReadonlyMap<string, FlagDefinition>>(1, TTL_MS);
  private readonly overridesCache = new TtlCache<ReadonlyMap<string, OrgOverride>>(100_000, TTL_MS);

  constructor(
    private readonly tx: TransactionService,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly orgLock: OrgLockService,
  ) {}

  onModuleInit(): void {
    // Messages: `definitions`, `org:<org id>`, or `*` (everything: e.g. after a Redis reconnect).
    this.bus.on(FlagsService.TOPIC, (message) => {
      if (message === '*') {
        this.definitionsCache.clear();
        this.overridesCache.clear();
      } else if (message === DEFINITIONS) this.definitionsCache.delete(DEFINITIONS);
      else if (message.startsWith('org:')) this.overridesCache.delete(message.slice(4));
    });
  }

  // ---- evaluation (hot path, memory) ----

  /** The flag's value for the org. A key with no definition and no override is off (`default`). */
  async evaluate(orgId: string, key: string): Promise<EffectiveFlag> {
    const org = orgId.toLowerCase();
    // Both maps are usually cached (the hot path): no promise then.
    const definitions = this.tx.inTransaction() ? undefined : this.definitionsCache.get(DEFINITIONS);
    const overrides = definitions && this.overridesCache.get(org);
    if (definitions && overrides) return effective(key, org, definitions.get(key), overrides.get(key));
    const [allDefinitions, orgOverrides] = await Promise.all([this.definitionMap(), this.overrideMap(org)]);
    return effective(key, org, allDefinitions.get(key), orgOverrides.get(key));
  }

  async isEnabled(orgId: string, key: string): Promise<boolean> {
    return (await this.evaluate(orgId, key)).enabled;
  }

  /** Every defined flag plus every key overridden in the org, by key. */
  async list(orgId: string): Promise<EffectiveFlag[]> {
    const org = orgId.toLowerCase();
    const [definitions, overrides] = await Promise.all([this.definitionMap(), this.overrideMap(org)]);
    const keys = [...new Set([...definitions.keys(), ...overrides.keys()])].sort(byKey);
    return keys.map((key) => effective(key, org, definitions.get(key), overrides.get(key)));
  }

  // ---- org overrides ----

  /**
   * Sets the org's override. With a `writer`, the org row is locked and the writer's `flag.manage`
   * re-checked as stored now (404 org_not_found / 403 permission_denied); without one, only locked.
   */
  async setOverride(orgId: string, key: string, enabled: boolean, writer?: FlagWriter): Promise<EffectiveFlag> {
    const org = orgId.toLowerCase();
    return this.tx.run(async (m) => {
      await this.lockOrg(org, writer);
      const old = await this.tx.repo(OrgFeatureFlagEntity).findOne({ where: { orgId: org, flagKey: key } });
      const now = this.clock.now();
      await m.query(
        `INSERT INTO org_feature_flags (org_id, flag_key, enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, flag_key) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at`,
        [org, key, enabled, now],
      );
      await this.audit.record({
        action: AuditAction.FlagUpdated,
        targetType: AuditTargetType.Flag,
        targetId: key,
        orgId: org,
        metadata: { scope: 'org', flag_key: key, old: old ? { enabled: old.enabled } : null, new: { enabled } },
      });
      await this.invalidateOrg(org);
      return { key, enabled, source: FlagSource.Org, updatedAt: now };
    });
  }

  /** Removes the org's override (back to the rollout or default). Idempotent: false when there was none (no audit row then). */
  async clearOverride(orgId: string, key: string, writer?: FlagWriter): Promise<boolean> {
    const org = orgId.toLowerCase();
    return this.tx.run(async (m) => {
      await this.lockOrg(org, writer);
      // TypeORM's PostgreSQL driver answers [rows, count] for DELETE ... RETURNING.
      const [removed]: [{ enabled: boolean }[], number] = await m.query(
        `DELETE FROM org_feature_flags WHERE org_id = $1 AND flag_key = $2 RETURNING enabled`,
        [org, key],
      );
      const row = removed[0];
      if (!row) return false;
      await this.audit.record({
        action: AuditAction.FlagUpdated,
        targetType: AuditTargetType.Flag,
        targetId: key,
        orgId: org,
        metadata: { scope: 'org', flag_key: key, old: { enabled: row.enabled }, new: null },
      });
      await this.invalidateOrg(org);
      return true;
    });
  }

  // ---- global definitions ----

  /** Replaces (or creates) the global definition: an omitted description is '', an omitted rollout null. */
  async define(key: string, input: FlagDefinitionInput): Promise<FlagDefinition> {
    return this.tx.run(async (m) => {
      // One writer per key until commit, so the audit rows' old values form one sequence.
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`saasready.feature_flags:${key}`]);
      const repo = this.tx.repo(FeatureFlagEntity);
      const old = await repo.findOne({ where: { key } });
      const now = this.clock.now();
      const next: FlagDefinition = {
        key,
        description: input.description ?? '',
        defaultEnabled: input.defaultEnabled,
        rolloutPercent: input.rolloutPercent ?? null,
        createdAt: old?.createdAt ?? now,
        updatedAt: now,
      };
      await m.query(
        `INSERT INTO feature_flags (key, description, default_enabled, rollout_percent, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO UPDATE SET description = EXCLUDED.description, default_enabled = EXCLUDED.default_enabled,
           rollout_percent = EXCLUDED.rollout_percent, updated_at = EXCLUDED.updated_at`,
        [next.key, next.description, next.defaultEnabled, next.rolloutPercent, next.createdAt, next.updatedAt],
      );
      await this.audit.record({
        action: AuditAction.FlagUpdated,
        targetType: AuditTargetType.Flag,
        targetId: key,
        orgId: null,
        metadata: { scope: 'global', flag_key: key, old: old ? definitionValue(old) : null, new: definitionValue(next) },
      });
      await this.invalidateDefinitions();
      return next;
    });
  }

  /** Every definition as stored now (no cache), by key. */
  async definitions(): Promise<FlagDefinition[]> {
    const rows = await this.tx.repo(FeatureFlagEntity).find();
    return rows.map(toDefinition).sort(byKey);
  }

  // ---- cache ----

  /** Drops the org's overrides from every instance's cache, after the ambient transaction commits. */
  async invalidateOrg(orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(FlagsService.TOPIC, `org:${orgId.toLowerCase()}`));
  }

  /** Drops the definitions from every instance's cache, after the ambient transaction commits. */
  async invalidateDefinitions(): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(FlagsService.TOPIC, DEFINITIONS));
  }

  private async definitionMap(): Promise<ReadonlyMap<string, FlagDefinition>> {
    const load = async () => new Map((await this.tx.repo(FeatureFlagEntity).find()).map((r) => [r.key, toDefinition(r)] as const));
    // Inside a transaction the cache may not show its uncommitted writes, and what it reads must not be cached.
    return this.tx.inTransaction() ? load() : this.definitionsCache.fill(DEFINITIONS, load);
  }

  private async overrideMap(orgId: string): Promise<ReadonlyMap<string, OrgOverride>> {
    const load = async () =>
      new Map(
        (await this.tx.repo(OrgFeatureFlagEntity).find({ where: { orgId } })).map(
          (r) => [r.flagKey, { enabled: r.enabled, updatedAt: r.updatedAt }] as const,
        ),
      );
    return this.tx.inTransaction() ? load() : this.overridesCache.fill(orgId, load);
  }

  private async lockOrg(orgId: string, writer?: FlagWriter): Promise<void> {
    if (writer) await this.orgLock.acquire(orgId, writer.userId, Permission.FlagManage);
    else await this.orgLock.lock(orgId);
  }
}

function effective(key: string, orgId: string, definition: FlagDefinition | undefined, override: OrgOverride | undefined): EffectiveFlag {
  const { enabled, source } = evaluateFlag(key, orgId, definition, override);
  const updatedAt = source === FlagSource.Org ? override!.updatedAt : (definition?.updatedAt ?? null);
  return { key, enabled, source, updatedAt };
}

function toDefinition(r: FeatureFlagEntity): FlagDefinition {
  return {
    key: r.key,
    description: r.description,
    defaultEnabled: r.defaultEnabled,
    rolloutPercent: r.rolloutPercent,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function definitionValue(d: Pick<FlagDefinition, 'description' | 'defaultEnabled' | 'rolloutPercent'>): Record<string, unknown> {
  return { description: d.description, default_enabled: d.defaultEnabled, rollout_percent: d.rolloutPercent };
}

function byKey(a: string | { key: string }, b: string | { key: string }): number {
  const x = typeof a === 'string' ? a : a.key;
  const y = typeof b === 'string' ? b : b.key;
  return x < y ? -1 : x > y ? 1 : 0;
}
