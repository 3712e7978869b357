/** The BullMQ queue of email deliveries (Redis mode). */
export const MAIL_QUEUE = 'mail';

/** Job names of MAIL_QUEUE, each with its payload type below. */
export const MailJobName = {
  /** Send one outbox row (payload DeliverMailJob); the job id is the outbox id. */
  Deliver: 'deliver',
} as const;
export type MailJobName = (typeof MailJobName)[keyof typeof MailJobName];

/** Payload of a MailJobName.Deliver job. The email itself stays in the database (email_outbox). */
export interface DeliverMailJob {
  outboxId: string;
}

/** What an outbox row is for. A new kind of email adds its name here and a template in mail.templates.ts. */
export const MailKind = {
  Invitation: 'invitation',
  EmailVerification: 'email_verification',
  PasswordReset: 'password_reset',
} as const;
export type MailKind = (typeof MailKind)[keyof typeof MailKind];

export const OutboxStatus = {
  Pending: 'pending',
  Sent: 'sent',
  Failed: 'failed',
} as const;
export type OutboxStatus = (typeof OutboxStatus)[keyof typeof OutboxStatus];

/** What `MailService.deliver` did with a row. */
export type DeliveryOutcome = 'sent' | 'failed' | 'skipped' | 'missing';

/** The wait before attempt `attempt + 1` after `attempt` failures: base, 2 x base, 4 x base, ... (BullMQ's exponential backoff). */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}
