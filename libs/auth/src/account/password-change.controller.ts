import { Body, Controller, HttpCode, Logger, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { AuditAction } from '@saasready/audit';
import { Actor, AppException, Authenticated, Clock, ErrorCode, TransactionService } from '@saasready/core';
import { AuthAuditService } from '../auth-audit.service';
import { CurrentActor } from '../current-actor.decorator';
import { PasswordService } from '../passwords/password.service';
import { LoginLockoutService } from '../security/login-lockout.service';
import { SessionService } from '../sessions/session.service';
import { UserService } from '../users/user.service';
import { ChangePasswordDto } from './dto/password-change.dto';

/** POST /auth/password/change: a signed-in user sets a new password, proving the current one. */
@ApiTags('auth')
@Controller('auth')
export class PasswordChangeController {
  private readonly logger = new Logger('PasswordChange');

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly users: UserService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly lockout: LoginLockoutService,
    private readonly authAudit: AuthAuditService,
  ) {}

  /**
   * A wrong current password counts toward the account's password lockout (as a failed login does: a
   * stolen access token gives no unlimited guesses) and is 403 reauthentication_failed; while locked,
   * 429 account_locked. Then the password policy (400). One transaction: the new hash, every other
   * session ended, user.password_changed and one session.revoked per ended session.
   */
  @Authenticated()
  @Post('password/change')
  @HttpCode(204)
  @ApiExtension('x-audit-action', [AuditAction.UserPasswordChanged, AuditAction.SessionRevoked])
  @ApiBadRequestResponse({ description: '`password_too_weak`: the new password is a common password.' })
  @ApiForbiddenResponse({ description: '`reauthentication_failed`: the current password is not correct.' })
  @ApiTooManyRequestsResponse({ description: '`account_locked`: too many wrong passwords; with Retry-After.' })
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change the password (needs the current one); ends every other session',
    description:
      'A wrong current password is 403 reauthentication_failed and counts toward the account lockout (429 account_locked ' +
      'while locked). The new password follows the password rules (400 validation_failed / password_too_weak). ' +
      'The calling session stays signed in; every other session of the user is ended (401 session_revoked).',
  })
  async change(@CurrentActor() actor: Actor, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.lockout.assertNotLocked('password', actor.email);
    const user = await this.users.findById(actor.userId);
    if (!user || !user.isActive) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    if (!(await this.passwords.verify(user.passwordHash, dto.current_password))) {
      await this.lockout.recordFailure('password', actor.email);
      // A refused request: the application log, not the audit log (API.md "Audit log").
      this.logger.warn({ msg: 'password change refused: wrong current password', user_id: user.id, session_id: actor.sessionId });
      throw new AppException(403, ErrorCode.ReauthenticationFailed, 'The current password is not correct.');
    }
    const normalized = this.passwords.assertAcceptable(dto.new_password, 'new_password');
    const passwordHash = await this.passwords.hash(normalized); // before the transaction: no connection held
    await this.tx.run(async (m) => {
      // The password checked above must still be the account's (not changed or reset meanwhile).
      const [row]: { password_hash: string }[] = await m.query(`SELECT password_hash FROM users WHERE id = $1 FOR UPDATE`, [user.id]);
      if (row?.password_hash !== user.passwordHash) {
        throw new AppException(403, ErrorCode.ReauthenticationFailed, 'The password was changed meanwhile; try again.');
      }
      await this.users.update(user.id, { passwordHash }, this.clock.now()); // invalidates the user cache after commit
      const ended = await this.sessions.revokeAllForUser(user.id, 'password_changed', actor.sessionId);
      await this.authAudit.userEvent(AuditAction.UserPasswordChanged, user, { other_sessions_ended: ended.length });
      await this.authAudit.sessionsRevoked(user, ended, 'password_changed');
    });
    await this.lockout.clear('password', actor.email);
  }
}
