import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, Encryptor, newId, TransactionService } from '@saasready/core';
import { EmailOutboxEntity } from './email-outbox.entity';
import { DeliveryOutcome, OutboxStatus, retryDelayMs } from './mail.constants';
import { MailOutbox } from './mail-outbox';
import type { OutgoingEmail } from './mail.templates';
import { MailTransport } from './mail.transport';
import { OutboxSignal } from './outbox-signal';

/** A failed attempt that will be retried (the worker rethrows it so BullMQ schedules the backoff). */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'MailDeliveryError';
  }
}

const LAST_ERROR_MAX = 1000;

/**
 * Email, the one entry point. `enqueue` writes the email to the outbox in the ambient transaction (so it
 * exists if and only if the change that causes it commits) and, after commit, signals the delivery
 * strategy of the process. `deliver` sends one outbox row and records the outcome: the worker's
 * processor (Redis mode) and the in-process loop (embedded mode) both call it.
 *
 * Attempts are counted on the row (MAIL_MAX_ATTEMPTS, backoff MAIL_RETRY_DELAY doubling): the row, not
 * the queue, decides when an email has failed for good.
 */
@Injectable()
export class MailService {
  private readonly logger = new Logger('Mail');
  private readonly encryptor: Encryptor;

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly outbox: MailOutbox,
    private readonly transport: MailTransport,
    private readonly signal: OutboxSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.encryptor = new Encryptor(config.encryptionKey);
  }

  /** Queues an email; returns its outbox id. Call it inside the transaction of the change it reports. */
  async enqueue(email: OutgoingEmail): Promise<string> {
    const id = newId();
    const now = this.clock.now();
    const aad = outboxAad(id);
    await this.outbox.insert({
      id,
      kind: email.kind,
      to: email.to,
      subject: email.subject,
      text: this.encryptor.encrypt(email.text, aad),
      html: this.encryptor.encrypt(email.html, aad),
      status: OutboxStatus.Pending,
      attempts: 0,
      lastError: null,
      createdAt: now,
      sentAt: null,
      nextAttemptAt: now,
      relayedAt: null,
    });
    await this.tx.afterCommit(() => this.signal.notify([id]));
    return id;
  }

  /**
   * Sends outbox row `id` if it is still pending. A failed attempt is recorded (attempts, last_error,
   * next_attempt_at) and thrown as MailDeliveryError while attempts remain; the last one marks the row
   * failed. A row already sent (a redelivered job) is skipped: no duplicate email.
   */
  async deliver(id: string): Promise<DeliveryOutcome> {
    const row = await this.outbox.find(id);
    if (!row) return 'missing';
    if (row.status !== OutboxStatus.Pending) return 'skipped';
    const attempts = row.attempts + 1;
    let body: { text: string; html: string };
    try {
      body = this.open(row);
    } catch {
      await this.outbox.markAttemptFailed(id, attempts, 'cannot decrypt the email (was ENCRYPTION_KEY changed?)', null);
      this.logger.error({ msg: 'email failed for good: cannot decrypt it', outbox_id: id });
      return 'failed';
    }
    try {
      await this.transport.send({ to: row.to, subject: row.subject, ...body });
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).slice(0, LAST_ERROR_MAX);
      const now = this.clock.nowMs();
      if (attempts >= this.config.mail.maxAttempts) {
        await this.outbox.markAttemptFailed(id, attempts, error, null);
        this.logger.error({ msg: `email failed for good after ${attempts} attempts`, outbox_id: id, kind: row.kind, error });
        return 'failed';
      }
      const retryAt = new Date(now + retryDelayMs(attempts, this.config.mail.retryDelayMs));
      await this.outbox.markAttemptFailed(id, attempts, error, retryAt);
      this.logger.warn({ msg: `email attempt ${attempts} failed; retrying`, outbox_id: id, kind: row.kind, error });
      throw new MailDeliveryError(error, attempts);
    }
    await this.outbox.markSent(id, attempts, this.clock.now());
    return 'sent';
  }

  /**
   * The queue gave up on the job of row `id` (BullMQ attempts exhausted, or a job stalled too often by
   * dying workers) while the row is still pending: the next relay pass queues it again. The row's own
   * attempt count still bounds the retries.
   */
  async releaseToRelay(id: string): Promise<void> {
    await this.outbox.clearRelayed(id);
  }

  private open(row: EmailOutboxEntity): { text: string; html: string } {
    const aad = outboxAad(row.id);
    return { text: this.encryptor.decrypt(row.text, aad), html: this.encryptor.decrypt(row.html, aad) };
  }
}

function outboxAad(id: string): string {
  return `email_outbox:${id}`;
}
