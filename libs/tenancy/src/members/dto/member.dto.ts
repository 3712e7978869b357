import { IsUUID } from 'class-validator';

export class UpdateMemberDto {
  /** A built-in role or a custom role of this organization (else 400 invalid_role). */
  @IsUUID('all', { message: 'must be a UUID' })
  role_id: string;
}

export class MemberDto {
  user_id: string;
  email: string;
  full_name: string;
  role_id: string;
  role_name: string;
  joined_at: string;
}

export class MemberListDto {
  data: MemberDto[];
  /** Pass as `?cursor=` for the next page; null on the last page. */
  next_cursor: string | null;
}
