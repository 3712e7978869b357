import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The kinds of email link tokens. */
export const EmailTokenKind = {
  EmailVerification: 'email_verification',
  PasswordReset: 'password_reset',
} as const;
export type EmailTokenKind = (typeof EmailTokenKind)[keyof typeof EmailTokenKind];

/**
 * A link token sent by email (verification, password reset): 256 random bits, stored as SHA-256, single
 * use. At most one live (unused) token per user and kind: issuing a new one replaces the old (voids it).
 */
@Entity('email_tokens')
export class EmailTokenEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('text')
  kind: EmailTokenKind;

  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}
