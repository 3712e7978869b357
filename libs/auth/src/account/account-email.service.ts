import { BeforeApplicationShutdown, Injectable, Logger, Optional } from '@nestjs/common';
import { AuditAction } from '@saasready/audit';
import { AppException, Clock, ErrorCode, RequestContext, TransactionService } from '@saasready/core';
import { MailService, MailTemplates } from '@saasready/mail';
import { AuthAuditService } from '../auth-audit.service';
import { PasswordService } from '../passwords/password.service';
import { LoginLockoutService } from '../security/login-lockout.service';
import { SessionService } from '../sessions/session.service';
import { UserEntity } from '../users/user.entity';
import { UserService } from '../users/user.service';
import { EmailTokenKind } from './email-token.entity';
import { EMAIL_TOKEN_TTL_MS, EmailTokenService } from './email-token.service';

const invalidLink = () =>
  new AppException(400, ErrorCode.LinkTokenInvalid, 'This link is invalid, already used, replaced by a newer one, or expired.');

/**
 * The account emails: email verification and password reset. Links carry a one-time token (EmailTokenService)
 * and go out through the outbox (MailService), in the same transaction as the token.
 */
@Injectable()
export class AccountEmailService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('AccountEmail');
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly tokens: EmailTokenService,
    private readonly users: UserService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly mail: MailService,
    private readonly templates: MailTemplates,
    private readonly authAudit: AuthAuditService,
    @Optional() private readonly lockout?: LoginLockoutService,
  ) {}

  /** Issues a verification link (voiding the older one) and queues its email, in the ambient transaction (register joins it). */
  async queueVerification(user: Pick<UserEntity, 'id' | 'email' | 'fullName'>): Promise<void> {
    await this.tx.run(async () => {
      const { token } = await this.tokens.issue(user.id, EmailTokenKind.EmailVerification);
      await this.mail.enqueue(
        this.templates.emailVerification({
          to: user.email,
          fullName: user.fullName,
          token,
          validForMs: EMAIL_TOKEN_TTL_MS.email_verification,
        }),
      );
    });
  }

  /** POST /auth/email/resend: a new link, the old one void. Nothing is sent for an address already verified. */
  async resendVerification(userId: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || !user.isActive || user.emailVerifiedAt) return;
    await this.queueVerification(user);
  }

  /** POST /auth/email/verify */
  async verifyEmail(token: string): Promise<void> {
    await this.tx.run(async () => {
      const userId = await this.tokens.consume(token, EmailTokenKind.EmailVerification);
      if (!userId) throw invalidLink();
      const user = await this.users.findById(userId);
      if (!user) throw invalidLink();
      if (user.emailVerifiedAt) return; // already verified: nothing changes, nothing to record
      await this.users.update(userId, { emailVerifiedAt: this.clock.now() }, this.clock.now());
      await this.authAudit.userEvent(AuditAction.UserEmailVerified, user);
    });
  }

  /**
   * POST /auth/password/forgot. Answers at once, before looking the email up, and does the work in the
   * background: the response (and its timing) is the same whether the account exists or not. An unknown
   * or disabled account gets nothing.
   */
  requestPasswordReset(email: string): void {
    const ctx = RequestContext.current();
    const context = { requestId: ctx?.requestId ?? '', ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null };
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => RequestContext.run(context, () => this.sendPasswordReset(email)))
      .catch((e: unknown) => this.logger.error({ err: e, msg: 'password reset email could not be queued' }));
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  private async sendPasswordReset(email: string): Promise<void> {
    const user = await this.users.findByEmail(email);
    if (!user || !user.isActive) return;
    await this.tx.run(async () => {
      const { token } = await this.tokens.issue(user.id, EmailTokenKind.PasswordReset);
      await this.mail.enqueue(
        this.templates.passwordReset({ to: user.email, fullName: user.fullName, token, validForMs: EMAIL_TOKEN_TTL_MS.password_reset }),
      );
    });
  }

  /**
   * POST /auth/password/reset: sets the password (the password policy applies first, so a refused
   * password leaves the link usable), ends every session of the user and clears a login lockout.
   * It does not mark the email verified.
   */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    const normalized = this.passwords.assertAcceptable(newPassword, 'new_password');
    const passwordHash = await this.passwords.hash(normalized); // before the transaction: no connection held
    const user = await this.tx.run(async () => {
      const userId = await this.tokens.consume(token, EmailTokenKind.PasswordReset);
      if (!userId) throw invalidLink();
      const found = await this.users.findById(userId);
      if (!found) throw invalidLink();
      await this.users.update(userId, { passwordHash }, this.clock.now());
      const ended = await this.sessions.revokeAllForUser(userId, 'password_reset');
      await this.authAudit.userEvent(AuditAction.UserPasswordReset, found, { sessions_ended: ended.length });
      await this.authAudit.sessionsRevoked(found, ended, 'password_reset');
      return found;
    });
    // Login lockouts are keyed by the email (password and second-factor failures alike).
    await this.lockout?.clear('password', user.email);
    await this.lockout?.clear('two_factor', user.email);
  }

  /** Resolves when the background work started so far (password reset look-ups) is done. */
  async idle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.idle();
  }
}
