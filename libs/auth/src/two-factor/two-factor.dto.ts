import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class TwoFactorCodeDto {
  /** A 6-digit code from the authenticator app. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  code: string;
}

export class TwoFactorDisableDto {
  @IsString()
  @MaxLength(1024)
  password: string;

  /** A current authenticator code (or an unused backup code). */
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  code: string;
}

export class TwoFactorSetupDto {
  /** Base32 TOTP secret (160 bits); shown once. */
  secret: string;
  otpauth_url: string;
  /** data:image/png;base64,... QR code of otpauth_url */
  qr_code_url: string;
  /** 10 single-use backup codes; shown once. */
  backup_codes: string[];
}

export class TwoFactorEnabledDto {
  two_factor_enabled: true;
}

export class BackupCodesDto {
  backup_codes: string[];
}
