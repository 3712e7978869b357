import { IsString, MaxLength } from 'class-validator';

export class ChangePasswordDto {
  /** The password the account has now (compared exactly, after NFKC). */
  @IsString()
  @MaxLength(1024)
  current_password: string;

  /** 8 to 128 characters, not a common password. */
  @IsString()
  @MaxLength(1024)
  new_password: string;
}
