import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** As given, trimmed; unique case-insensitively (index on lower(email)). */
  @Column('text')
  email: string;

  @Column('text', { name: 'password_hash' })
  passwordHash: string;

  @Column('text', { name: 'full_name' })
  fullName: string;

  @Column('timestamptz', { name: 'email_verified_at', nullable: true })
  emailVerifiedAt: Date | null;

  @Column('boolean', { name: 'is_active', default: true })
  isActive: boolean;

  /** The org the user was last scoped to; a new login's session starts there. */
  @Column('uuid', { name: 'last_org_id', nullable: true })
  lastOrgId: string | null;

  @Column('boolean', { name: 'two_factor_enabled', default: false })
  twoFactorEnabled: boolean;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
