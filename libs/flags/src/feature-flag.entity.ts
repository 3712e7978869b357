import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A global flag definition (instance admins write it). */
@Entity('feature_flags')
export class FeatureFlagEntity {
  /** `^[a-z0-9][a-z0-9_.-]{0,63}$` */
  @PrimaryColumn('text')
  key: string;

  @Column('text', { default: '' })
  description: string;

  @Column('boolean', { name: 'default_enabled' })
  defaultEnabled: boolean;

  /** 0..100, or null: no percentage rollout (then `defaultEnabled` decides). */
  @Column('integer', { name: 'rollout_percent', nullable: true })
  rolloutPercent: number | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}

/** One organization's override of a flag; the key need not have a global definition. */
@Entity('org_feature_flags')
export class OrgFeatureFlagEntity {
  @PrimaryColumn('uuid', { name: 'org_id' })
  orgId: string;

  @PrimaryColumn('text', { name: 'flag_key' })
  flagKey: string;

  @Column('boolean')
  enabled: boolean;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
