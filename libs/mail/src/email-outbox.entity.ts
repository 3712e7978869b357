import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { MailKind, OutboxStatus } from './mail.constants';

/**
 * One email to send (the transactional outbox). Written in the transaction of the change that causes
 * it, so the email exists if and only if that change commits. `text` and `html` carry one-time links,
 * so they are stored encrypted (ENCRYPTION_KEY, AES-256-GCM), like every other secret at rest.
 */
@Entity('email_outbox')
export class EmailOutboxEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  kind: MailKind;

  @Column('text')
  to: string;

  @Column('text')
  subject: string;

  /** Encrypted (Encryptor envelope). */
  @Column('text')
  text: string;

  /** Encrypted (Encryptor envelope). */
  @Column('text')
  html: string;

  @Column('text')
  status: OutboxStatus;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt: Date | null;

  /** In-process delivery: when the row is next due (after a failure: the backoff; while sending: a lease). */
  @Column('timestamptz', { name: 'next_attempt_at' })
  nextAttemptAt: Date;

  /** Redis mode: when the relay last put the row on the queue (null: not yet, e.g. Redis was down). */
  @Column('timestamptz', { name: 'relayed_at', nullable: true })
  relayedAt: Date | null;
}
