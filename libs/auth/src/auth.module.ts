import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '@saasready/audit';
import { TenancyModule } from '@saasready/tenancy';
import { AccessGuard } from './access.guard';
import { RateLimitModule } from '@saasready/core';
import { LoginLockoutService } from './security/login-lockout.service';
import { TwoFactorController } from './two-factor/two-factor.controller';
import { TwoFactorService } from './two-factor/two-factor.service';
import { AccountController } from './account/account.controller';
import { AccountEmailService } from './account/account-email.service';
import { EmailTokenService } from './account/email-token.service';
import { PasswordChangeController } from './account/password-change.controller';
import { AuthAuditService } from './auth-audit.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { PasswordService } from './passwords/password.service';
import { SessionService } from './sessions/session.service';
import { KeyService } from './tokens/key.service';
import { TokenService } from './tokens/token.service';
import { UserService } from './users/user.service';
import { WellKnownController } from './well-known.controller';

@Module({
  imports: [PassportModule, TenancyModule, AuditModule, RateLimitModule],
  controllers: [AuthController, AccountController, PasswordChangeController, TwoFactorController, WellKnownController],
  providers: [
    AuthService,
    UserService,
    PasswordService,
    SessionService,
    KeyService,
    TokenService,
    JwtStrategy,
    LoginLockoutService,
    TwoFactorService,
    EmailTokenService,
    AccountEmailService,
    AuthAuditService,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [
    AuthService,
    AccountEmailService,
    LoginLockoutService,
    TwoFactorService,
    UserService,
    PasswordService,
    SessionService,
    KeyService,
    TokenService,
    TenancyModule,
  ],
})
export class AuthModule {}
