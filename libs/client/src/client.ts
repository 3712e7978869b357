import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { AuthenticationError, errorFromResponse } from './errors';
import type { components, operations, paths } from './generated/openapi';
import { PUBLIC_OPERATIONS } from './generated/operations';
import { PageRequest } from './pagination';

type Schemas = components['schemas'];
type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export type TokenResponse = Schemas['TokenResponseDto'];
export type Me = Schemas['MeDto'];
export type Session = Schemas['SessionDto'];
export type Organization = Schemas['OrgDto'];
export type Role = Schemas['RoleDto'];
export type Member = Schemas['MemberDto'];
export type Invitation = Schemas['InvitationDto'];
export type InvitationWithToken = Schemas['InvitationWithTokenDto'];
export type InvitationPreview = Schemas['InvitationPreviewDto'];
export type AcceptedInvitation = Schemas['AcceptInvitationResponseDto'];
export type AuditLog = Schemas['AuditLogDto'];
export type AuditVerification = Schemas['AuditVerifyDto'];
export type EffectiveFlag = Schemas['EffectiveFlagDto'];
export type TwoFactorSetup = Schemas['TwoFactorSetupDto'];
export type RegisterInput = Schemas['RegisterDto'];
export type LoginInput = Schemas['LoginDto'];
export type CreateOrgInput = Schemas['CreateOrgDto'];
export type UpdateOrgInput = Schemas['UpdateOrgDto'];
export type CreateRoleInput = Schemas['CreateRoleDto'];
export type UpdateRoleInput = Schemas['UpdateRoleDto'];
export type InviteInput = Schemas['CreateInvitationDto'];
export type Permission = NonNullable<Schemas['AuthzCheckDto']['permission']>;
/** Page size (1..200, default 50) and the cursor to start from (a page's `next_cursor`). */
export type PageOptions = QueryOf<'listOrgs'>;
export type InvitationListOptions = QueryOf<'listInvitations'>;
export type AuditLogListOptions = QueryOf<'listAuditLogs'>;

/** The tokens the client holds (in memory). */
export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
}

export interface SaaSReadyOptions {
  /** The server's address, e.g. `http://localhost:8000` (a trailing `/api/v1` is accepted too). */
  baseUrl: string;
  /** Tokens from an earlier session (e.g. kept in storage); see also setToken(). */
  accessToken?: string | null;
  refreshToken?: string | null;
  /** Called whenever the held tokens change (login, refresh, logout, ...; null when cleared): persist them here. */
  onTokens?: (tokens: Tokens | null) => void;
  /** The fetch to use (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request (e.g. a User-Agent of your app). */
  headers?: Record<string, string>;
}

/**
 * The SaaSReady client.
 *
 * - Tokens: kept after register, login, switchOrg and refresh; sent as `Authorization: Bearer` to every
 *   route that takes one (never to public routes). When a request sent with a token answers 401, the
 *   client refreshes the tokens once and retries the request once; concurrent 401s share one refresh
 *   (refresh tokens are single use: a second refresh with the same token would end the session). If
 *   the refresh fails, the tokens are cleared and the refresh's error (an AuthenticationError) is thrown.
 * - Errors: every error answer throws a SaaSReadyError subclass carrying `status`, the problem's
 *   `code`, `detail` and field `errors` (ValidationError, AuthenticationError, TwoFactorRequiredError,
 *   PermissionDeniedError, NotFoundError, ConflictError, GoneError, RateLimitError with `retryAfter`).
 * - Lists that page return a PageRequest: `await` it for a page, `for await` it for every item.
 * - `api` is the typed openapi-fetch client underneath (same tokens and refresh), for every route.
 */
export class SaaSReady {
  /** The generated, typed client of every route (openapi-fetch), sharing this client's tokens. */
  readonly api: Client<paths>;
  readonly auth: AuthApi;
  readonly orgs: OrgsApi;
  readonly invitations: InvitationsApi;
  readonly features: FeaturesApi;
  readonly authz: AuthzApi;

  private tokens: Tokens | null = null;
  private refreshing: Promise<string> | null = null;
  private readonly fetchFn: (request: Request) => Promise<Response>;
  private readonly onTokens?: (tokens: Tokens | null) => void;

  constructor(options: SaaSReadyOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.fetchFn = options.fetch ?? ((request) => globalThis.fetch(request));
    this.onTokens = options.onTokens;
    if (options.accessToken) this.tokens = { accessToken: options.accessToken, refreshToken: options.refreshToken ?? null };
    this.api = createClient<paths>({ baseUrl, fetch: this.fetchFn, headers: options.headers });
    this.api.use(this.authMiddleware());
    this.auth = new AuthApi(this);
    this.orgs = new OrgsApi(this);
    this.invitations = new InvitationsApi(this);
    this.features = new FeaturesApi(this);
    this.authz = new AuthzApi(this);
  }

  /** Sets the tokens (e.g. restored from storage), or clears them with null. */
  setToken(accessToken: string | null, refreshToken: string | null = null): void {
    this.setTokens(accessToken ? { accessToken, refreshToken } : null);
  }

  /** The tokens held now, or null. */
  getTokens(): Tokens | null {
    return this.tokens ? { ...this.tokens } : null;
  }

  /** @internal Stores the tokens of a token response and returns it. */
  keep(response: TokenResponse): TokenResponse {
    this.setTokens({ accessToken: response.access_token, refreshToken: response.refresh_token });
    return response;
  }

  /** @internal */
  setTokens(tokens: Tokens | null): void {
    this.tokens = tokens;
    this.onTokens?.(tokens ? { ...tokens } : null);
  }

  /** @internal The data of a successful answer, else its typed error. */
  async unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (!response.ok) throw errorFromResponse(response, error);
    return data as T;
  }

  /**
   * @internal Refreshes the tokens (single flight: callers during a refresh share it) and returns the
   * new access token. `stale`: the access token a 401 was answered to; when the held one is already
   * another, that one is returned without a new refresh.
   */
  refreshTokens(stale?: string): Promise<string> {
    if (stale !== undefined && this.tokens && this.tokens.accessToken !== stale) return Promise.resolve(this.tokens.accessToken);
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** @internal The organization of the held access token (its `org_id` claim), or null. */
  currentOrgId(): string | null {
    const token = this.tokens?.accessToken;
    if (!token) return null;
    try {
      const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '='))) as { org_id?: unknown };
      return typeof claims.org_id === 'string' ? claims.org_id : null;
    } catch {
      return null;
    }
  }

  private async doRefresh(): Promise<string> {
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) {
      this.setTokens(null);
      throw new AuthenticationError(401, null, 'No refresh token: sign in again.');
    }
    const { data, error, response } = await this.api.POST('/api/v1/auth/refresh', { body: { refresh_token: refreshToken } });
    if (!response.ok || !data) {
      // Only when the refresh token is still the one we sent (a login meanwhile keeps its tokens).
      if (this.tokens?.refreshToken === refreshToken) this.setTokens(null);
      throw errorFromResponse(response, error);
    }
    return this.keep(data).access_token;
  }

  /** Adds the access token to non-public routes; on their 401, refreshes once and retries once. */
  private authMiddleware(): Middleware {
    const sent = new WeakMap<Request, { token: string; retry: Request }>();
    return {
      onRequest: ({ request, schemaPath }) => {
        const token = this.tokens?.accessToken;
        if (!token || PUBLIC_OPERATIONS.has(`${request.method} ${schemaPath}`)) return undefined;
        request.headers.set('Authorization', `Bearer ${token}`);
        sent.set(request, { token, retry: request.clone() });
        return request;
      },
      onResponse: async ({ request, response }) => {
        const first = sent.get(request);
        if (response.status !== 401 || !first || !this.tokens?.refreshToken) return undefined;
        const token = await this.refreshTokens(first.token);
        first.retry.headers.set('Authorization', `Bearer ${token}`);
        await response.body?.cancel();
        return this.fetchFn(first.retry);
      },
    };
  }
}

/** Accounts, sign-in, sessions and two-factor login. */
export class AuthApi {
  constructor(private readonly c: SaaSReady) {}

  /** Creates the account (and its personal organization, or joins the invitation's); keeps the tokens. */
  async register(input: RegisterInput): Promise<TokenResponse> {
    return this.c.keep(await this.c.unwrap(this.c.api.POST('/api/v1/auth/register', { body: input })));
  }

  /**
   * Signs in; keeps the tokens. With two-factor login on, a call without `two_factor_code` throws
   * TwoFactorRequiredError: ask for the code (or a backup code) and call again with it.
   */
  async login(input: LoginInput): Promise<TokenResponse> {
    return this.c.keep(await this.c.unwrap(this.c.api.POST('/api/v1/auth/login', { body: input })));
  }

  /** New tokens for the held refresh token (done for you on a 401; shares a refresh in flight). */
  async refresh(): Promise<Tokens> {
    await this.c.refreshTokens();
    return this.c.getTokens()!;
  }

  /** Rescopes the session to another of your organizations; keeps the new tokens. */
  async switchOrg(orgId: string): Promise<TokenResponse> {
    return this.c.keep(await this.c.unwrap(this.c.api.POST('/api/v1/auth/switch-org', { body: { org_id: orgId } })));
  }

  /** You, with your role and permissions in the current organization. */
  me(): Promise<Me> {
    return this.c.unwrap(this.c.api.GET('/api/v1/auth/me'));
  }

  updateMe(input: { full_name: string }): Promise<Me> {
    return this.c.unwrap(this.c.api.PATCH('/api/v1/auth/me', { body: input }));
  }

  /** Ends this session and forgets the tokens. */
  async logout(): Promise<void> {
    await this.c.unwrap(this.c.api.POST('/api/v1/auth/logout'));
    this.c.setTokens(null);
  }

  /** Ends every session of yours and forgets the tokens. */
  async logoutAll(): Promise<void> {
    await this.c.unwrap(this.c.api.POST('/api/v1/auth/logout-all'));
    this.c.setTokens(null);
  }

  async listSessions(): Promise<Session[]> {
    return (await this.c.unwrap(this.c.api.GET('/api/v1/auth/sessions'))).data;
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.c.unwrap(this.c.api.DELETE('/api/v1/auth/sessions/{session_id}', { params: { path: { session_id: sessionId } } }));
  }

  /** Changes your password (ends your other sessions; this one stays). */
  async changePassword(input: { current_password: string; new_password: string }): Promise<void> {
    await this.c.unwrap(this.c.api.POST('/api/v1/auth/password/change', { body: input }));
  }

  /** Your security events (sign-ins, failed sign-ins, sessions ended, ...), newest first. */
  listSecurityEvents(options: PageOptions = {}): PageRequest<AuditLog> {
    return new PageRequest(
      (cursor) => this.c.unwrap(this.c.api.GET('/api/v1/auth/security-events', { params: { query: { ...options, cursor } } })),
      options.cursor,
    );
  }

  /**
   * Starts two-factor set-up: the secret, its otpauth URL and QR code, and 10 backup codes (shown
   * once). Two-factor login is on only after verify2fa() with a code of the authenticator.
   */
  enable2fa(): Promise<TwoFactorSetup> {
    return this.c.unwrap(this.c.api.POST('/api/v1/auth/2fa/setup'));
  }

  /** Turns two-factor login on with a current code (ends your other sessions). */
  async verify2fa(code: string): Promise<{ two_factor_enabled: boolean }> {
    return this.c.unwrap(this.c.api.POST('/api/v1/auth/2fa/verify', { body: { code } }));
  }

  /** Turns two-factor login off; needs your password and a current code (ends your other sessions). */
  async disable2fa(input: { password: string; code: string }): Promise<void> {
    await this.c.unwrap(this.c.api.POST('/api/v1/auth/2fa/disable', { body: input }));
  }

  /** A new set of backup codes (the old ones stop working); needs a current code. */
  async regenerateBackupCodes(code: string): Promise<string[]> {
    return (await this.c.unwrap(this.c.api.POST('/api/v1/auth/2fa/backup-codes', { body: { code } }))).backup_codes;
  }
}

/** Organizations, their roles, members, invitations and audit log. */
export class OrgsApi {
  constructor(private readonly c: SaaSReady) {}

  /** Creates an organization with you as its Owner (your session stays scoped where it was). */
  create(input: CreateOrgInput): Promise<Organization> {
    return this.c.unwrap(this.c.api.POST('/api/v1/orgs', { body: input }));
  }

  /** Your organizations, each with your role (paged). */
  list(options: PageOptions = {}): PageRequest<Organization> {
    return new PageRequest(
      (cursor) => this.c.unwrap(this.c.api.GET('/api/v1/orgs', { params: { query: { ...options, cursor } } })),
      options.cursor,
    );
  }

  get(orgId: string): Promise<Organization> {
    return this.c.unwrap(this.c.api.GET('/api/v1/orgs/{org_id}', { params: { path: { org_id: orgId } } }));
  }

  update(orgId: string, input: UpdateOrgInput): Promise<Organization> {
    return this.c.unwrap(this.c.api.PATCH('/api/v1/orgs/{org_id}', { params: { path: { org_id: orgId } }, body: input }));
  }

  async delete(orgId: string): Promise<void> {
    await this.c.unwrap(this.c.api.DELETE('/api/v1/orgs/{org_id}', { params: { path: { org_id: orgId } } }));
  }

  /** The built-in and custom roles (a short, complete list). */
  async listRoles(orgId: string): Promise<Role[]> {
    return (await this.c.unwrap(this.c.api.GET('/api/v1/orgs/{org_id}/roles', { params: { path: { org_id: orgId } } }))).data;
  }

  createRole(orgId: string, input: CreateRoleInput): Promise<Role> {
    return this.c.unwrap(this.c.api.POST('/api/v1/orgs/{org_id}/roles', { params: { path: { org_id: orgId } }, body: input }));
  }

  updateRole(orgId: string, roleId: string, input: UpdateRoleInput): Promise<Role> {
    return this.c.unwrap(
      this.c.api.PATCH('/api/v1/orgs/{org_id}/roles/{role_id}', { params: { path: { org_id: orgId, role_id: roleId } }, body: input }),
    );
  }

  async deleteRole(orgId: string, roleId: string): Promise<void> {
    await this.c.unwrap(
      this.c.api.DELETE('/api/v1/orgs/{org_id}/roles/{role_id}', { params: { path: { org_id: orgId, role_id: roleId } } }),
    );
  }

  /** The members, in join order (paged). */
  listMembers(orgId: string, options: PageOptions = {}): PageRequest<Member> {
    return new PageRequest(
      (cursor) =>
        this.c.unwrap(
          this.c.api.GET('/api/v1/orgs/{org_id}/members', { params: { path: { org_id: orgId }, query: { ...options, cursor } } }),
        ),
      options.cursor,
    );
  }

  updateMemberRole(orgId: string, userId: string, roleId: string): Promise<Member> {
    return this.c.unwrap(
      this.c.api.PATCH('/api/v1/orgs/{org_id}/members/{user_id}', {
        params: { path: { org_id: orgId, user_id: userId } },
        body: { role_id: roleId },
      }),
    );
  }

  /** Removes a member; with your own user id, leaves the organization. */
  async removeMember(orgId: string, userId: string): Promise<void> {
    await this.c.unwrap(
      this.c.api.DELETE('/api/v1/orgs/{org_id}/members/{user_id}', { params: { path: { org_id: orgId, user_id: userId } } }),
    );
  }

  /** Invites by email with a role; the answer carries the invitation `token` (only here and on resend). */
  inviteMember(orgId: string, input: InviteInput): Promise<InvitationWithToken> {
    return this.c.unwrap(this.c.api.POST('/api/v1/orgs/{org_id}/invitations', { params: { path: { org_id: orgId } }, body: input }));
  }

  /** The invitations, newest first, optionally of one `status` (paged). */
  listInvitations(orgId: string, options: InvitationListOptions = {}): PageRequest<Invitation> {
    return new PageRequest(
      (cursor) =>
        this.c.unwrap(
          this.c.api.GET('/api/v1/orgs/{org_id}/invitations', { params: { path: { org_id: orgId }, query: { ...options, cursor } } }),
        ),
      options.cursor,
    );
  }

  async revokeInvitation(orgId: string, invitationId: string): Promise<void> {
    await this.c.unwrap(
      this.c.api.DELETE('/api/v1/orgs/{org_id}/invitations/{invitation_id}', {
        params: { path: { org_id: orgId, invitation_id: invitationId } },
      }),
    );
  }

  resendInvitation(orgId: string, invitationId: string): Promise<InvitationWithToken> {
    return this.c.unwrap(
      this.c.api.POST('/api/v1/orgs/{org_id}/invitations/{invitation_id}/resend', {
        params: { path: { org_id: orgId, invitation_id: invitationId } },
      }),
    );
  }

  /** The audit log, newest first; filters `action`, `actor_id`, `since` (inclusive), `until` (exclusive) (paged). */
  listAuditLogs(orgId: string, options: AuditLogListOptions = {}): PageRequest<AuditLog> {
    return new PageRequest(
      (cursor) =>
        this.c.unwrap(
          this.c.api.GET('/api/v1/orgs/{org_id}/audit-logs', { params: { path: { org_id: orgId }, query: { ...options, cursor } } }),
        ),
      options.cursor,
    );
  }

  /** Walks the organization's audit hash chain. */
  verifyAuditLogs(orgId: string): Promise<AuditVerification> {
    return this.c.unwrap(this.c.api.GET('/api/v1/orgs/{org_id}/audit-logs/verify', { params: { path: { org_id: orgId } } }));
  }
}

/** The invitee's side of invitations. */
export class InvitationsApi {
  constructor(private readonly c: SaaSReady) {}

  /** What an invitation is for (no sign-in needed). */
  preview(token: string): Promise<InvitationPreview> {
    return this.c.unwrap(this.c.api.POST('/api/v1/invitations/preview', { body: { token } }));
  }

  /** Joins the invitation's organization (your email must be the invited one). */
  accept(token: string): Promise<AcceptedInvitation> {
    return this.c.unwrap(this.c.api.POST('/api/v1/invitations/accept', { body: { token } }));
  }
}

/** Feature flags of an organization. */
export class FeaturesApi {
  constructor(private readonly c: SaaSReady) {}

  /**
   * Whether `flagKey` is on for the organization (`orgId`, default: the current organization of the
   * session). An unknown key is off.
   */
  async isEnabled(flagKey: string, options: { orgId?: string } = {}): Promise<boolean> {
    return (await this.get(flagKey, options)).enabled;
  }

  /** The flag's value in the organization and its `source` (`org`, `rollout` or `default`). */
  get(flagKey: string, options: { orgId?: string } = {}): Promise<EffectiveFlag> {
    const orgId = options.orgId ?? this.c.currentOrgId();
    if (!orgId) return Promise.reject(new Error('features: no orgId given and the session has no current organization'));
    return this.c.unwrap(
      this.c.api.GET('/api/v1/orgs/{org_id}/feature-flags/{flag_key}', { params: { path: { org_id: orgId, flag_key: flagKey } } }),
    );
  }

  /** Every flag's effective value in the organization. */
  async list(orgId: string): Promise<EffectiveFlag[]> {
    return (await this.c.unwrap(this.c.api.GET('/api/v1/orgs/{org_id}/feature-flags', { params: { path: { org_id: orgId } } }))).data;
  }

  /** Overrides the flag for the organization (needs `flag.manage`); returns the effective flag. */
  setFlag(orgId: string, flagKey: string, enabled: boolean): Promise<EffectiveFlag> {
    return this.c.unwrap(
      this.c.api.PUT('/api/v1/orgs/{org_id}/feature-flags/{flag_key}', {
        params: { path: { org_id: orgId, flag_key: flagKey } },
        body: { enabled },
      }),
    );
  }

  /** Removes the organization's override (back to the rollout or default). */
  async clearFlag(orgId: string, flagKey: string): Promise<void> {
    await this.c.unwrap(
      this.c.api.DELETE('/api/v1/orgs/{org_id}/feature-flags/{flag_key}', { params: { path: { org_id: orgId, flag_key: flagKey } } }),
    );
  }
}

/** Authorization checks for your app. */
export class AuthzApi {
  constructor(private readonly c: SaaSReady) {}

  /** Whether you hold `permission` in the organization, now (false for an organization you are not in). */
  async check(orgId: string, permission: Permission): Promise<boolean> {
    const result = await this.c.unwrap(this.c.api.POST('/api/v1/authz/check', { body: { org_id: orgId, permission } }));
    return 'allowed' in result ? result.allowed : false;
  }
}
