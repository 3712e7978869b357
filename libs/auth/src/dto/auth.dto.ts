import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';

/** Passwords are checked for length (in code points, after NFKC) by the service; here only the type. */
export class RegisterDto {
  /** The account email; trimmed, compared case-insensitively. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(320)
  @IsEmail({}, { message: 'must be an email address' })
  email: string;

  /** 8 to 128 characters, not a common password. */
  @IsString()
  @MaxLength(1024)
  password: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/\S/, { message: 'must not be blank' })
  full_name: string;

  /** The token of an invitation (`{APP_URL}/accept-invite?token=...`): join its organization instead of getting a personal one. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  invitation_token?: string;
}

export class LoginDto {
  @IsString()
  @MaxLength(320)
  email: string;

  @IsString()
  @MaxLength(1024)
  password: string;

  /** A TOTP code or an unused backup code, when two-factor login is on. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  two_factor_code?: string;
}

export class RefreshDto {
  /** Long enough for an access token posted by mistake to reach the service and be 401 token_invalid. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(8192)
  refresh_token: string;
}

export class SwitchOrgDto {
  @IsUUID('all', { message: 'must be a UUID' })
  org_id: string;
}

export class UpdateMeDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/\S/, { message: 'must not be blank' })
  full_name: string;
}
