import { Injectable } from '@nestjs/common';
import { TransactionService, returnedRows } from '@saasready/core';
import { EmailOutboxEntity } from './email-outbox.entity';
import { OutboxStatus } from './mail.constants';

/** The email_outbox table: every read and write of it (joins the ambient transaction). */
@Injectable()
export class MailOutbox {
  private exists = false;

  constructor(private readonly tx: TransactionService) {}

  /**
   * Whether the table exists yet. At start the delivery loops may run before the migrations (the API
   * runs them itself in embedded mode); they skip the pass instead of failing a query.
   */
  async ready(): Promise<boolean> {
    if (this.exists) return true;
    const rows: { t: string | null }[] = await this.tx.manager().query(`SELECT to_regclass('email_outbox')::text AS t`);
    this.exists = rows[0]?.t != null;
    return this.exists;
  }

  async insert(row: EmailOutboxEntity): Promise<void> {
    await this.tx.repo(EmailOutboxEntity).insert(row);
  }

  async find(id: string): Promise<EmailOutboxEntity | null> {
    return this.tx.repo(EmailOutboxEntity).findOne({ where: { id } });
  }

  /**
   * In-process delivery: claims up to `limit` pending rows due at `now` by moving their next_attempt_at to
   * `leaseUntil` (FOR UPDATE SKIP LOCKED: two processes never claim the same row). A process that dies
   * while sending leaves the row to be claimed again when the lease ends.
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.tx.manager().query(
        `UPDATE email_outbox SET next_attempt_at = $2
        WHERE id IN (SELECT id FROM email_outbox
                      WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
        [now, leaseUntil, limit],
      ),
    );
    return rows.map((r) => r.id);
  }

  /** Redis mode: pending rows never put on the queue, or put there before `staleBefore` (the job may be lost). */
  async relayable(staleBefore: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.tx.manager().query(
      `SELECT id FROM email_outbox
        WHERE status = 'pending' AND (relayed_at IS NULL OR relayed_at < $1)
        ORDER BY created_at, id LIMIT $2`,
      [staleBefore, limit],
    );
    return rows.map((r) => r.id);
  }

  async markRelayed(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.tx.manager().query(`UPDATE email_outbox SET relayed_at = $2 WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [ids, now]);
  }

  /** Forgets that a pending row was queued, so the next relay pass queues it again (its job is gone). */
  async clearRelayed(id: string): Promise<void> {
    await this.tx.manager().query(`UPDATE email_outbox SET relayed_at = NULL WHERE id = $1 AND status = 'pending'`, [id]);
  }

  /** Pending -> sent. False when the row was no longer pending. */
  async markSent(id: string, attempts: number, now: Date): Promise<boolean> {
    const res = await this.tx
      .repo(EmailOutboxEntity)
      .update({ id, status: OutboxStatus.Pending }, { status: OutboxStatus.Sent, sentAt: now, attempts, lastError: null });
    return (res.affected ?? 0) > 0;
  }

  /** Records a failed attempt: pending again at `retryAt`, or failed for good (`retryAt` null). */
  async markAttemptFailed(id: string, attempts: number, error: string, retryAt: Date | null): Promise<void> {
    await this.tx
      .repo(EmailOutboxEntity)
      .update(
        { id, status: OutboxStatus.Pending },
        retryAt ? { attempts, lastError: error, nextAttemptAt: retryAt } : { attempts, lastError: error, status: OutboxStatus.Failed },
      );
  }
}
