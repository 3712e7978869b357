import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One audit row (migrations/1764403300000-audit.ts). Append-only: a trigger refuses UPDATE and DELETE
 * (retention aside). `prev_hash`/`hash` chain the rows of one organization (org_id null: its own chain).
 */
@Entity('audit_logs')
export class AuditLogEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** Chain order (identity column, assigned by the database). */
  @Column({ type: 'bigint', insert: false, update: false })
  seq: string;

  /** No foreign key: rows outlive their organization. */
  @Column('uuid', { name: 'org_id', nullable: true })
  orgId: string | null;

  @Column('uuid', { name: 'actor_id', nullable: true })
  actorId: string | null;

  /** The actor's email at the time (kept when the user is deleted). */
  @Column('text', { name: 'user_email', nullable: true })
  userEmail: string | null;

  @Column('text')
  action: string;

  @Column('text', { name: 'target_type' })
  targetType: string;

  @Column('text', { name: 'target_id', nullable: true })
  targetId: string | null;

  @Column('text', { name: 'ip_address', nullable: true })
  ipAddress: string | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent: string | null;

  @Column('jsonb', { default: {} })
  metadata: Record<string, unknown>;

  @Column({ type: 'timestamptz', precision: 3 })
  timestamp: Date;

  @Column('text', { name: 'prev_hash' })
  prevHash: string;

  @Column('text')
  hash: string;
}
