import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { AuditAction } from '@saasready/audit';
import { Actor, AppException, Authenticated, ErrorCode, RateLimited, TransactionService } from '@saasready/core';
import { AuthAuditService } from '../auth-audit.service';
import { CurrentActor } from '../current-actor.decorator';
import { PasswordService } from '../passwords/password.service';
import { LoginLockoutService } from '../security/login-lockout.service';
import { SessionService } from '../sessions/session.service';
import { UserService } from '../users/user.service';
import { BackupCodesDto, TwoFactorCodeDto, TwoFactorDisableDto, TwoFactorEnabledDto, TwoFactorSetupDto } from './two-factor.dto';
import { TwoFactorService } from './two-factor.service';

const reauthFailed = () => new AppException(403, ErrorCode.ReauthenticationFailed, 'The password or the code is not correct.');

@ApiTags('two-factor')
@Controller('auth/2fa')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly users: UserService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly lockout: LoginLockoutService,
    private readonly tx: TransactionService,
    private readonly authAudit: AuthAuditService,
  ) {}

  @Authenticated()
  @RateLimited('two_factor')
  @Post('setup')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiConflictResponse({ description: '`two_factor_already_enabled`: disable it first to set up a new authenticator.' })
  @ApiOperation({
    operationId: 'setup2fa',
    summary: 'Start TOTP set-up: a new secret, its QR code and backup codes (2FA is on only after verify)',
  })
  async setup(@CurrentActor() actor: Actor): Promise<TwoFactorSetupDto> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    if (user.twoFactorEnabled) {
      throw AppException.conflict(
        ErrorCode.TwoFactorAlreadyEnabled,
        'Two-factor login is already on; disable it first to set up a new authenticator.',
      );
    }
    return this.twoFactor.setup(user.id, user.email);
  }

  @Authenticated()
  @RateLimited('two_factor')
  @Post('verify')
  @HttpCode(200)
  @ApiExtension('x-audit-action', [AuditAction.UserTwoFactorEnabled, AuditAction.SessionRevoked])
  @ApiBadRequestResponse({ description: '`invalid_two_factor_code`: the code is wrong, or no set-up is pending.' })
  @ApiTooManyRequestsResponse({ description: '`account_locked`: too many wrong codes; with Retry-After.' })
  @ApiOperation({
    operationId: 'verify2fa',
    summary: 'Turn two-factor login on with a code of the pending secret; ends the other sessions',
  })
  async verify(@CurrentActor() actor: Actor, @Body() dto: TwoFactorCodeDto): Promise<TwoFactorEnabledDto> {
    await this.lockout.assertNotLocked('two_factor', actor.email);
    const user = { id: actor.userId, email: actor.email, lastOrgId: actor.currentOrgId }; // signed in: the audit rows take the session's org
    const ok = await this.tx.run(async () => {
      if (!(await this.twoFactor.enable(user.id, dto.code))) return false;
      await this.users.invalidate(user.id);
      const ended = await this.sessions.revokeAllForUser(user.id, 'two_factor_changed', actor.sessionId);
      await this.authAudit.userEvent(AuditAction.UserTwoFactorEnabled, user, { other_sessions_ended: ended.length });
      await this.authAudit.sessionsRevoked(user, ended, 'two_factor_changed');
      return true;
    });
    if (!ok) {
      await this.lockout.recordFailure('two_factor', actor.email);
      throw new AppException(400, ErrorCode.InvalidTwoFactorCode, 'The code is not correct (or no set-up is pending).');
    }
    await this.lockout.clear('two_factor', actor.email);
    return { two_factor_enabled: true };
  }

  @Authenticated()
  @RateLimited('two_factor')
  @Post('disable')
  @HttpCode(204)
  @ApiExtension('x-audit-action', [AuditAction.UserTwoFactorDisabled, AuditAction.SessionRevoked])
  @ApiForbiddenResponse({ description: '`reauthentication_failed`: the password or the code is not correct (or 2FA is off).' })
  @ApiTooManyRequestsResponse({ description: '`account_locked`: too many wrong codes; with Retry-After.' })
  @ApiOperation({ operationId: 'disable2fa', summary: 'Turn two-factor login off (password and a current code); ends the other sessions' })
  async disable(@CurrentActor() actor: Actor, @Body() dto: TwoFactorDisableDto): Promise<void> {
    await this.lockout.assertNotLocked('two_factor', actor.email);
    const user = await this.users.findById(actor.userId);
    if (!user || !user.twoFactorEnabled) throw reauthFailed();
    const passwordOk = await this.passwords.verify(user.passwordHash, dto.password);
    const ok = await this.tx.run(async () => {
      if (!passwordOk || !(await this.twoFactor.verify(user.id, dto.code))) return false;
      await this.twoFactor.disable(user.id);
      await this.users.invalidate(user.id);
      const ended = await this.sessions.revokeAllForUser(user.id, 'two_factor_changed', actor.sessionId);
      await this.authAudit.userEvent(AuditAction.UserTwoFactorDisabled, user, { other_sessions_ended: ended.length });
      await this.authAudit.sessionsRevoked(user, ended, 'two_factor_changed');
      return true;
    });
    if (!ok) {
      await this.lockout.recordFailure('two_factor', actor.email);
      throw reauthFailed();
    }
    await this.lockout.clear('two_factor', actor.email);
  }

  @Authenticated()
  @RateLimited('two_factor')
  @Post('backup-codes')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiForbiddenResponse({ description: '`reauthentication_failed`: the code is not correct (or 2FA is off).' })
  @ApiTooManyRequestsResponse({ description: '`account_locked`: too many wrong codes; with Retry-After.' })
  @ApiOperation({
    operationId: 'regenerateBackupCodes',
    summary: 'A new set of backup codes (the old ones are void); needs a current code',
  })
  async backupCodes(@CurrentActor() actor: Actor, @Body() dto: TwoFactorCodeDto): Promise<BackupCodesDto> {
    await this.lockout.assertNotLocked('two_factor', actor.email);
    const user = await this.users.findById(actor.userId);
    const codes = await this.tx.run(async () => {
      if (!user?.twoFactorEnabled || (await this.twoFactor.verify(user.id, dto.code, false)) === null) return null;
      return this.twoFactor.regenerateBackupCodes(user.id);
    });
    if (!codes) {
      await this.lockout.recordFailure('two_factor', actor.email);
      throw reauthFailed();
    }
    await this.lockout.clear('two_factor', actor.email);
    return { backup_codes: codes };
  }
}
