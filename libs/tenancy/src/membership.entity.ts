import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's membership of an organization with one role; unique per (org, user). */
@Entity('memberships')
export class MembershipEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'org_id' })
  orgId: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'role_id' })
  roleId: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}
