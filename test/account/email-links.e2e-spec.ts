import { AccountEmailService } from '@saasready/auth';
import { InProcessDelivery } from '@saasready/mail';
import { expectProblem, givenUser, GOOD_PASSWORD, login, uniqueEmail } from '../support/factories';
import { linkToken, SmtpReceiver } from '../support/smtp';
import { createTestApp, TestApp } from '../support/test-app';

const APP_URL = 'https://app.example.test';
/** Booting an app on a fresh embedded database (PGlite initdb) can take most of a minute on a busy machine. */
const BOOT_TIMEOUT_MS = 180_000;
const HOUR = 3_600_000;

/**
 * Email verification and password reset end to end: the email arrives at a real SMTP server, and the
 * link in it does what it says (embedded delivery: the API sends in-process).
 */
describe('account emails: verification and password reset', () => {
  let t: TestApp;
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    smtp = await SmtpReceiver.start();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL } });
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const verify = (token: unknown) => t.http().post('/api/v1/auth/email/verify').send({ token });
  const forgot = (email: string) => t.http().post('/api/v1/auth/password/forgot').send({ email });
  const reset = (token: string, new_password: string) => t.http().post('/api/v1/auth/password/reset').send({ token, new_password });
  const me = (auth: { Authorization: string }) => t.http().get('/api/v1/auth/me').set(auth);

  describe('email verification', () => {
    it('registering sends a verification email whose link verifies the address, once', async () => {
      const u = await givenUser(t, { fullName: 'Vera <Verify>' });
      const [mail] = await smtp.waitFor(u.email);
      expect(mail.subject).toBe('Confirm your email address');
      expect(mail.text).toContain('Hello Vera <Verify>,');
      expect(mail.html).toContain('Hello Vera &lt;Verify&gt;,');
      const token = linkToken(mail, APP_URL, 'verify-email');
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
      expect(mail.html).toContain(`href="${APP_URL}/verify-email?token=${token}"`);
      // Stored hashed only.
      const rows = await t.sql<{ token_hash: string }>(`SELECT token_hash FROM email_tokens WHERE user_id = $1`, [u.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).not.toContain(token);

      expect((await me(u.auth).expect(200)).body.email_verified).toBe(false);
      await verify(token).expect(204);
      expect((await me(u.auth).expect(200)).body.email_verified).toBe(true);
      expectProblem(await verify(token), 400, 'link_token_invalid');
    });

    it('resend voids the older link; unknown and malformed tokens are refused', async () => {
      const u = await givenUser(t);
      const first = linkToken((await smtp.waitFor(u.email))[0], APP_URL, 'verify-email');
      await t.http().post('/api/v1/auth/email/resend').set(u.auth).expect(202);
      const second = linkToken((await smtp.waitFor(u.email, 2))[1], APP_URL, 'verify-email');
      expect(second).not.toBe(first);
      expectProblem(await verify(first), 400, 'link_token_invalid');
      expectProblem(await verify('x'.repeat(43)), 400, 'link_token_invalid');
      expectProblem(await verify(12), 400, 'validation_failed');
      expectProblem(await t.http().post('/api/v1/auth/email/verify').send({ token: second, extra: 1 }), 400, 'validation_failed');
      await verify(second).expect(204);
      // Already verified: 202, and nothing more is sent.
      await t.http().post('/api/v1/auth/email/resend').set(u.auth).expect(202);
      await t.app.get(InProcessDelivery).flush();
      const rows = await t.sql(`SELECT id FROM email_outbox WHERE "to" = $1`, [u.email]);
      expect(rows).toHaveLength(2);
      expectProblem(await t.http().post('/api/v1/auth/email/resend'), 401, 'token_invalid');
    });

    it('a verification link is valid 24 hours', async () => {
      const early = await givenUser(t);
      const late = await givenUser(t);
      const earlyToken = linkToken((await smtp.waitFor(early.email))[0], APP_URL, 'verify-email');
      const lateToken = linkToken((await smtp.waitFor(late.email))[0], APP_URL, 'verify-email');
      t.clock.advance(24 * HOUR - 60_000);
      await verify(earlyToken).expect(204);
      t.clock.advance(60_001);
      expectProblem(await verify(lateToken), 400, 'link_token_invalid');
      expect((await me(late.auth).expect(200)).body.email_verified).toBe(false);
    });
  });

  describe('password reset', () => {
    it('forgot -> email -> reset: the new password works, every old session ends, the email stays unverified', async () => {
      const u = await givenUser(t);
      const second = await login(t, u.email);
      await smtp.waitFor(u.email); // the verification email
      await forgot(u.email.toUpperCase()).expect(202); // emails compare case-insensitively
      const mails = await smtp.waitFor(u.email, 2);
      const mail = mails.find((m) => m.subject === 'Reset your password')!;
      expect(mail).toBeDefined();
      const token = linkToken(mail, APP_URL, 'reset-password');
      expect(mail.html).toContain(`href="${APP_URL}/reset-password?token=${token}"`);

      const newPassword = 'quiet-lantern-meadow-77';
      await reset(token, newPassword).expect(204);
      expectProblem(await me(u.auth), 401, 'session_revoked');
      expectProblem(await me(second.auth), 401, 'session_revoked');
      expectProblem(await t.http().post('/api/v1/auth/refresh').send({ refresh_token: u.refreshToken }), 401, 'session_revoked');
      expectProblem(
        await t.http().post('/api/v1/auth/login').send({ email: u.email, password: GOOD_PASSWORD }),
        401,
        'invalid_credentials',
      );
      const fresh = await login(t, u.email, newPassword);
      expect((await me(fresh.auth).expect(200)).body.email_verified).toBe(false);
      // Single use.
      expectProblem(await reset(token, 'another-fine-password-9'), 400, 'link_token_invalid');
    });

    it('answers the same for an unknown email and sends nothing', async () => {
      const known = await givenUser(t);
      const unknown = uniqueEmail('nobody');
      const a = await forgot(unknown);
      const b = await forgot(known.email);
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(a.text).toBe(b.text);
      expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());
      await t.app.get(AccountEmailService).idle();
      await t.app.get(InProcessDelivery).flush();
      expect(await t.sql(`SELECT id FROM email_outbox WHERE lower("to") = lower($1)`, [unknown])).toHaveLength(0);
      expect(smtp.to(unknown)).toHaveLength(0);
      await smtp.waitFor(known.email, 2);
      expectProblem(await forgot('not-an-email'), 400, 'validation_failed');
    });

    it('a refused password leaves the link usable; a newer link voids the older; links last 1 hour', async () => {
      const u = await givenUser(t);
      await smtp.waitFor(u.email);
      await forgot(u.email).expect(202);
      const first = linkToken((await smtp.waitFor(u.email, 2))[1], APP_URL, 'reset-password');
      expectProblem(await reset(first, 'password'), 400, 'password_too_weak');
      expectProblem(await reset(first, 'short'), 400, 'validation_failed');
      await forgot(u.email).expect(202);
      const second = linkToken((await smtp.waitFor(u.email, 3))[2], APP_URL, 'reset-password');
      expectProblem(await reset(first, 'quiet-lantern-meadow-77'), 400, 'link_token_invalid');

      t.clock.advance(HOUR + 1);
      expectProblem(await reset(second, 'quiet-lantern-meadow-77'), 400, 'link_token_invalid');
      await login(t, u.email); // unchanged
      // A verification token is no reset token (and the other way round).
      const verification = linkToken(smtp.to(u.email)[0], APP_URL, 'verify-email');
      expectProblem(await reset(verification, 'quiet-lantern-meadow-77'), 400, 'link_token_invalid');
    });

    it('a reset clears a login lockout', async () => {
      const u = await givenUser(t);
      await smtp.waitFor(u.email);
      const attempt = (password: string) => t.http().post('/api/v1/auth/login').send({ email: u.email, password });
      for (let i = 0; i < t.config.lockout.threshold; i++) expectProblem(await attempt('wrong-password-123'), 401, 'invalid_credentials');
      expectProblem(await attempt(GOOD_PASSWORD), 429, 'account_locked');
      await forgot(u.email).expect(202);
      const token = linkToken((await smtp.waitFor(u.email, 2))[1], APP_URL, 'reset-password');
      await reset(token, 'quiet-lantern-meadow-77').expect(204);
      await attempt('quiet-lantern-meadow-77').expect(200);
    });

    it('a disabled account gets no reset email', async () => {
      const u = await givenUser(t);
      await smtp.waitFor(u.email);
      await t.sql(`UPDATE users SET is_active = false WHERE id = $1`, [u.id]);
      await forgot(u.email).expect(202);
      await t.app.get(AccountEmailService).idle();
      expect(await t.sql(`SELECT id FROM email_outbox WHERE "to" = $1 AND kind = 'password_reset'`, [u.email])).toHaveLength(0);
    });
  });
});
