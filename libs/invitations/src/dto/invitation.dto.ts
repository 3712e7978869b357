import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQueryDto } from '@saasready/tenancy';
import { InvitationStatus } from '../invitation.entity';

const STATUSES = Object.values(InvitationStatus);

export class CreateInvitationDto {
  /** Who is invited; trimmed, compared case-insensitively. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(320)
  @IsEmail({}, { message: 'must be an email address' })
  email: string;

  /** A built-in role or a custom role of this organization. */
  @IsUUID('all', { message: 'must be a UUID' })
  role_id: string;
}

export class ListInvitationsQueryDto extends PageQueryDto {
  /** Only invitations with this status (as of now: a pending invitation past its expiry is `expired`). */
  @IsOptional()
  @IsIn(STATUSES, { message: `must be one of ${STATUSES.join(', ')}` })
  status?: InvitationStatus;
}

export class InvitationTokenDto {
  /** The token of the `{APP_URL}/accept-invite?token=...` link. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  token: string;
}

export class InvitationDto {
  id: string;
  email: string;
  role_id: string;
  role_name: string;
  /** pending, accepted, revoked or expired (a pending invitation past `expires_at`). */
  status: InvitationStatus;
  /** ISO 8601, UTC */
  expires_at: string;
  /** The inviter's user id (null if that account is gone). */
  invited_by: string | null;
  /** ISO 8601, UTC */
  created_at: string;
}

/** Create and resend answer the invitation with its token: the only time the token is shown. */
export class InvitationWithTokenDto extends InvitationDto {
  /** Secret: shown once; the email link carries it too. */
  token: string;
}

export class InvitationListDto {
  data: InvitationDto[];
  next_cursor: string | null;
}

export class InvitationOrgDto {
  id: string;
  name: string;
}

export class InvitationPreviewDto {
  organization: InvitationOrgDto;
  email: string;
  role_name: string;
  expires_at: string;
  status: InvitationStatus;
}

export class AcceptedOrgDto {
  id: string;
  name: string;
  slug: string;
}

export class AcceptInvitationResponseDto {
  organization: AcceptedOrgDto;
  /** The role name in that organization. */
  role: string;
}
