import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, Authenticated, Public, RateLimited } from '@saasready/core';
import { CurrentActor } from '../current-actor.decorator';
import { AccountEmailService } from './account-email.service';
import { ForgotPasswordDto, ResetPasswordDto, VerifyEmailDto } from './dto/account.dto';

/** Email verification and password reset (the links of the account emails). */
@ApiTags('auth')
@Controller('auth')
export class AccountController {
  constructor(private readonly account: AccountEmailService) {}

  @Public()
  @Post('email/verify')
  @HttpCode(204)
  @ApiBadRequestResponse({ description: '`link_token_invalid`: the token is used, expired, replaced or unknown.' })
  @ApiOperation({
    operationId: 'verifyEmail',
    summary: 'Confirm the email address with the token of a verification link',
    description: 'Links are valid 24 hours and work once; a newer link voids the older one. Otherwise 400 link_token_invalid.',
  })
  async verify(@Body() dto: VerifyEmailDto): Promise<void> {
    await this.account.verifyEmail(dto.token);
  }

  @Authenticated()
  @Post('email/resend')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'resendVerificationEmail',
    summary: 'Send a new verification link (the previous one stops working)',
    description: 'Queues the email. When the address is already verified nothing is sent (still 202).',
  })
  async resend(@CurrentActor() actor: Actor): Promise<void> {
    await this.account.resendVerification(actor.userId);
  }

  @Public()
  @RateLimited('password')
  @Post('password/forgot')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'forgotPassword',
    summary: 'Email a password reset link',
    description:
      'Always 202, at once, whether or not an account has this email (no enumeration); only an existing, active ' +
      'account gets an email. The link is valid 1 hour and works once; a newer link voids the older one.',
  })
  forgot(@Body() dto: ForgotPasswordDto): void {
    this.account.requestPasswordReset(dto.email);
  }

  @Public()
  @RateLimited('password')
  @Post('password/reset')
  @HttpCode(204)
  @ApiBadRequestResponse({
    description: '`link_token_invalid`: the token is used, expired, replaced or unknown. `password_too_weak`: a common password.',
  })
  @ApiOperation({
    operationId: 'resetPassword',
    summary: 'Set a new password with the token of a reset link',
    description:
      'Ends every session of the account and clears a login lockout. A used, expired, replaced or unknown token is ' +
      '400 link_token_invalid; a refused password (400 validation_failed / password_too_weak) leaves the link usable.',
  })
  async reset(@Body() dto: ResetPasswordDto): Promise<void> {
    await this.account.resetPassword(dto.token, dto.new_password);
  }
}
