/** GET /auth/me */
export class MeDto {
  id: string;
  email: string;
  full_name: string;
  email_verified: boolean;
  two_factor_enabled: boolean;
  /** ISO 8601, UTC */
  created_at: string;
  current_org_id: string | null;
  current_org_role: string | null;
  permissions: string[];
}

export class OrgRefDto {
  id: string;
  name: string;
  slug: string;
}

/** Every route that signs in answers this; `Cache-Control: no-store`. */
export class TokenResponseDto {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
  user: MeDto;
  organization: OrgRefDto | null;
  role: string | null;
}

export class SessionDto {
  id: string;
  created_at: string;
  /** When the session last signed in, refreshed or switched organization. */
  last_used_at: string;
  ip_address: string | null;
  user_agent: string | null;
  /** True for the session of the calling token. */
  current: boolean;
}

export class SessionListDto {
  data: SessionDto[];
  /** Always null: this list is short and complete. */
  next_cursor: string | null;
}
