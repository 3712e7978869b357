import { Body, Controller, Delete, Get, Header, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Audit, AuditAction, AuditTargetType } from '@saasready/audit';
import { Actor, AppException, Authenticated, Public, RateLimited } from '@saasready/core';
import { AuthService } from './auth.service';
import { CurrentActor } from './current-actor.decorator';
import { MeDto, SessionListDto, TokenResponseDto } from './dto/auth-responses.dto';
import { LoginDto, RefreshDto, RegisterDto, SwitchOrgDto, UpdateMeDto } from './dto/auth.dto';

const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => AppException.validation([{ field: 'session_id', message: 'must be a UUID' }]),
});

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @RateLimited('register')
  @Post('register')
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiBadRequestResponse({ description: '`password_too_weak`: the password is on the list of common passwords.' })
  @ApiForbiddenResponse({ description: '`invitation_email_mismatch`: the email is not the invited one (no account is created).' })
  @ApiNotFoundResponse({ description: '`invitation_not_found`: the `invitation_token` is unknown or was replaced.' })
  @ApiConflictResponse({ description: '`email_taken`: an account has this email.' })
  @ApiGoneResponse({ description: '`invitation_expired`, or `invitation_not_pending` (the invitation was revoked or used).' })
  @ApiOperation({ operationId: 'register', summary: 'Create an account, its personal organization and a session' })
  register(@Body() dto: RegisterDto): Promise<TokenResponseDto> {
    return this.auth.register(dto);
  }

  @Public()
  @RateLimited('login')
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiUnauthorizedResponse({
    description:
      '`invalid_credentials`: wrong email or password (the same for an unknown email). `two_factor_required`: two-factor ' +
      'login is on; send `two_factor_code`. `invalid_two_factor_code`: the code is wrong or already used.',
  })
  @ApiTooManyRequestsResponse({
    description: '`account_locked`: too many failed attempts on this account; the same answer for a right or wrong password.',
  })
  @ApiOperation({ operationId: 'login', summary: 'Sign in with email and password (and a 2FA code when on)' })
  login(@Body() dto: LoginDto): Promise<TokenResponseDto> {
    return this.auth.login(dto);
  }

  @Public()
  @RateLimited('refresh')
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiUnauthorizedResponse({
    description:
      '`token_invalid` (unknown token), `token_expired`, `refresh_token_reused` (the token was already used: the session ' +
      'is ended), `session_revoked` (the session was ended).',
  })
  @ApiOperation({ operationId: 'refresh', summary: 'Exchange a refresh token for new tokens (single use; reuse ends the session)' })
  refresh(@Body() dto: RefreshDto): Promise<TokenResponseDto> {
    return this.auth.refresh(dto.refresh_token);
  }

  @Authenticated()
  @Post('switch-org')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiNotFoundResponse({ description: '`org_not_found`: the caller is not a member of `org_id`.' })
  @ApiOperation({ operationId: 'switchOrg', summary: "Rescope the session to another of the caller's organizations" })
  switchOrg(@CurrentActor() actor: Actor, @Body() dto: SwitchOrgDto): Promise<TokenResponseDto> {
    return this.auth.switchOrg(actor.sessionId, actor.userId, dto.org_id);
  }

  @Authenticated()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ operationId: 'logout', summary: 'End the current session' })
  @Audit(AuditAction.UserLoggedOut, { targetType: AuditTargetType.User, metadata: (req) => ({ session_id: req.user?.sessionId }) })
  async logout(@CurrentActor() actor: Actor): Promise<void> {
    await this.auth.logout(actor.sessionId);
  }

  @Authenticated()
  @Post('logout-all')
  @HttpCode(204)
  @ApiOperation({ operationId: 'logoutAll', summary: 'End every session of the caller' })
  async logoutAll(@CurrentActor() actor: Actor): Promise<void> {
    await this.auth.logoutAll(actor.userId);
  }

  @Authenticated()
  @Get('me')
  @ApiOperation({ operationId: 'getMe', summary: 'The caller, with the current role and permissions' })
  me(@CurrentActor() actor: Actor): Promise<MeDto> {
    return this.auth.me(actor.userId, actor.sessionId);
  }

  @Authenticated()
  @Patch('me')
  @ApiOperation({ operationId: 'updateMe', summary: "Change the caller's name" })
  updateMe(@CurrentActor() actor: Actor, @Body() dto: UpdateMeDto): Promise<MeDto> {
    return this.auth.updateMe(actor.userId, actor.sessionId, dto.full_name);
  }

  @Authenticated()
  @Get('sessions')
  @ApiOperation({ operationId: 'listSessions', summary: "The caller's live sessions" })
  async sessions(@CurrentActor() actor: Actor): Promise<SessionListDto> {
    return { data: await this.auth.listSessions(actor.userId, actor.sessionId), next_cursor: null };
  }

  @Authenticated()
  @Delete('sessions/:session_id')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: '`not_found`: the caller has no such session.' })
  @ApiOperation({ operationId: 'revokeSession', summary: 'End one of the caller’s sessions' })
  @Audit(AuditAction.SessionRevoked, {
    targetType: AuditTargetType.Session,
    targetId: (req) => req.params.session_id,
    metadata: () => ({ reason: 'revoked_by_user' }),
  })
  async revokeSession(@CurrentActor() actor: Actor, @Param('session_id', uuidPipe) sessionId: string): Promise<void> {
    await this.auth.revokeSession(actor.userId, sessionId);
  }
}
