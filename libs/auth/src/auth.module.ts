import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TenancyModule } from '@saasready/tenancy';
import { AccessGuard } from './access.guard';
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
  imports: [PassportModule, TenancyModule],
  controllers: [AuthController, WellKnownController],
  providers: [
    AuthService,
    UserService,
    PasswordService,
    SessionService,
    KeyService,
    TokenService,
    JwtStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [AuthService, UserService, PasswordService, SessionService, KeyService, TokenService, TenancyModule],
})
export class AuthModule {}
