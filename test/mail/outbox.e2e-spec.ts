import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TransactionService } from '@saasready/core';
import { InProcessDelivery, MailService, MailTemplates } from '@saasready/mail';
import { givenUser, uniqueEmail } from '../support/factories';
import { linkToken, SmtpReceiver } from '../support/smtp';
import { createTestApp, TestApp } from '../support/test-app';

const APP_URL = 'https://app.example.test';
/** Booting an app on a fresh embedded database (PGlite initdb) can take most of a minute on a busy machine. */
const BOOT_TIMEOUT_MS = 180_000;

interface OutboxRow {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  next_attempt_at: Date;
}

/** The outbox without Redis: the API delivers in-process, with retries and backoff on the injected clock. */
describe('mail outbox (in-process delivery)', () => {
  let t: TestApp;
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    smtp = await SmtpReceiver.start();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL, MAIL_MAX_ATTEMPTS: '3', MAIL_RETRY_DELAY: '2s' } });
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const rowsTo = (email: string) =>
    t.sql<OutboxRow>(
      `SELECT id, kind, status, attempts, last_error, created_at, sent_at, next_attempt_at FROM email_outbox WHERE "to" = $1`,
      [email],
    );
  const flush = () => t.app.get(InProcessDelivery).flush();
  const email = (to: string) =>
    t.app.get(MailTemplates).passwordReset({ to, fullName: 'Out Box', token: 'tok-en_1', validForMs: 3_600_000 });

  it('an email exists if and only if its transaction commits', async () => {
    const tx = t.app.get(TransactionService);
    const mail = t.app.get(MailService);
    const rolledBack = uniqueEmail('rollback');
    await expect(
      tx.run(async () => {
        await mail.enqueue(email(rolledBack));
        throw new Error('the business change fails');
      }),
    ).rejects.toThrow('the business change fails');
    const committed = uniqueEmail('commit');
    await tx.run(async () => {
      await mail.enqueue(email(committed));
    });
    const [received] = await smtp.waitFor(committed);
    expect(linkToken(received, APP_URL, 'reset-password')).toBe('tok-en_1');
    await flush();
    expect(await rowsTo(rolledBack)).toHaveLength(0);
    expect(smtp.to(rolledBack)).toHaveLength(0);
    const [row] = await rowsTo(committed);
    expect(row).toMatchObject({ kind: 'password_reset', status: 'sent', attempts: 1, last_error: null });
    // Delivering a sent row again (a redelivered job) sends nothing.
    expect(await mail.deliver(row.id)).toBe('skipped');
    expect(smtp.to(committed)).toHaveLength(1);
  });

  it('a refused attempt is retried after its backoff (on the clock), then sent once', async () => {
    smtp.refuseNext(2);
    const u = await givenUser(t); // queues the verification email
    await flush();
    let [row] = await rowsTo(u.email);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/451/);
    expect(new Date(row.next_attempt_at).getTime() - t.clock.nowMs()).toBe(2000);
    // Not due yet: nothing happens.
    t.clock.advance(1999);
    await flush();
    expect((await rowsTo(u.email))[0].attempts).toBe(1);
    t.clock.advance(1);
    await flush();
    [row] = await rowsTo(u.email);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(new Date(row.next_attempt_at).getTime() - t.clock.nowMs()).toBe(4000); // doubled
    t.clock.advance(4000);
    await flush();
    [row] = await rowsTo(u.email);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect(row.sent_at).not.toBeNull();
    const mails = await smtp.waitFor(u.email);
    expect(mails).toHaveLength(1);
    expect(linkToken(mails[0], APP_URL, 'verify-email')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives up after MAIL_MAX_ATTEMPTS and records the last error', async () => {
    smtp.refuseNext(100);
    const to = uniqueEmail('doomed');
    await t.app.get(TransactionService).run(() => t.app.get(MailService).enqueue(email(to)));
    await flush();
    t.clock.advance(2000);
    await flush();
    t.clock.advance(4000);
    await flush();
    const [row] = await rowsTo(to);
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    expect(row.last_error).toMatch(/451/);
    t.clock.advance(60_000);
    await flush();
    expect((await rowsTo(to))[0].attempts).toBe(3);
    smtp.refuseNext(0);
    expect(smtp.to(to)).toHaveLength(0);
  });
});

describe('mail without SMTP_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { APP_URL } });
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });

  it('writes the email, links included, to the log and marks it sent', async () => {
    const logged: unknown[] = [];
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message: unknown) {
      logged.push(message);
    });
    try {
      const u = await givenUser(t);
      await t.app.get(InProcessDelivery).flush();
      const [row] = await t.sql<{ status: string; sent_at: Date | null }>(`SELECT status, sent_at FROM email_outbox WHERE "to" = $1`, [
        u.email,
      ]);
      expect(row.status).toBe('sent');
      expect(row.sent_at).not.toBeNull();
      const entry = logged.find((m) => typeof m === 'object' && m !== null && (m as { to?: string }).to === u.email) as { body: string };
      expect(entry).toBeDefined();
      expect(entry.body).toMatch(new RegExp(`${APP_URL.replace(/[./]/g, '\\$&')}/verify-email\\?token=[A-Za-z0-9_-]{43}`));
    } finally {
      spy.mockRestore();
    }
  });
});
