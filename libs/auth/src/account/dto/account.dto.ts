import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class VerifyEmailDto {
  /** The token of the `{APP_URL}/verify-email?token=...` link. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  token: string;
}

export class ForgotPasswordDto {
  /** The account email (trimmed, compared case-insensitively). */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(320)
  @IsEmail({}, { message: 'must be an email address' })
  email: string;
}

export class ResetPasswordDto {
  /** The token of the `{APP_URL}/reset-password?token=...` link. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  token: string;

  /** 8 to 128 characters, not a common password. */
  @IsString()
  @MaxLength(1024)
  new_password: string;
}
