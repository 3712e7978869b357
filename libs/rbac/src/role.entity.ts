import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A role: built-in (org_id null, shared by every org) or custom to one organization. */
@Entity('roles')
export class RoleEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'org_id', nullable: true })
  orgId: string | null;

  @Column('text')
  name: string;

  @Column('text', { default: '' })
  description: string;

  @Column('text', { array: true })
  permissions: string[];

  @Column('boolean', { name: 'is_system', default: false })
  isSystem: boolean;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
