import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Stored statuses. `expired` is also computed: a pending invitation past `expires_at` is expired. */
export const InvitationStatus = {
  Pending: 'pending',
  Accepted: 'accepted',
  Revoked: 'revoked',
  Expired: 'expired',
} as const;
export type InvitationStatus = (typeof InvitationStatus)[keyof typeof InvitationStatus];

/** An invitation to join an organization with a role. The token is stored as SHA-256 only. */
@Entity('invitations')
export class InvitationEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'org_id' })
  orgId: string;

  /** As given, trimmed; at most one pending invitation per org and email (case-insensitive). */
  @Column('text')
  email: string;

  @Column('uuid', { name: 'role_id' })
  roleId: string;

  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Column('text')
  status: InvitationStatus;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('uuid', { name: 'invited_by', nullable: true })
  invitedBy: string | null;

  @Column('uuid', { name: 'accepted_by', nullable: true })
  acceptedBy: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}

/** The status a client sees at `now`: pending past its expiry is expired. */
export function effectiveStatus(row: Pick<InvitationEntity, 'status' | 'expiresAt'>, now: Date): InvitationStatus {
  return row.status === InvitationStatus.Pending && row.expiresAt.getTime() <= now.getTime() ? InvitationStatus.Expired : row.status;
}
