import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditAction, AuditService, AuditTargetType, LoginFailureReason } from '@saasready/audit';
import { AppException, Clock, ErrorCode, newId, RequestContext, TransactionService } from '@saasready/core';
import { MembershipService, OrganizationService } from '@saasready/tenancy';
import type { ResolvedRole } from '@saasready/rbac';
import { AccountEmailService } from './account/account-email.service';
import { REGISTRATION_INVITATIONS, RegistrationInvitations } from './account/registration-invitations';
import { MeDto, SessionDto, TokenResponseDto } from './dto/auth-responses.dto';
import { RegisterDto, LoginDto } from './dto/auth.dto';
import { PasswordService } from './passwords/password.service';
import { LoginLockoutService } from './security/login-lockout.service';
import { TwoFactorService } from './two-factor/two-factor.service';
import { SessionEntity } from './sessions/session.entity';
import { SessionService } from './sessions/session.service';
import { TokenService } from './tokens/token.service';
import { UserEntity } from './users/user.entity';
import { normalizeEmail, UserService } from './users/user.service';

interface Scope {
  orgId: string | null;
  roleName: string | null;
  permissions: string[];
}

/** Accounts, sign-in, refresh, sign-out and the session's organization scope. */
@Injectable()
export class AuthService {
  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly users: UserService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly orgs: OrganizationService,
    private readonly memberships: MembershipService,
    private readonly audit: AuditService,
    private readonly accountEmails: AccountEmailService,
    private readonly lockout: LoginLockoutService,
    private readonly twoFactor: TwoFactorService,
    @Optional() @Inject(REGISTRATION_INVITATIONS) private readonly invitations?: RegistrationInvitations,
  ) {}

  /** Creates the user, a personal organization with the user as Owner, and a session: one transaction. */
  async register(dto: RegisterDto): Promise<TokenResponseDto> {
    const password = this.passwords.assertAcceptable(dto.password);
    const email = normalizeEmail(dto.email);
    const fullName = dto.full_name.trim();
    const passwordHash = await this.passwords.hash(password); // before the transaction: no connection held
    const ctx = RequestContext.current();
    const { user, session, refreshToken } = await this.tx.run(async (m) => {
      const now = this.clock.now();
      const user: UserEntity = {
        id: newId(),
        email,
        passwordHash,
        fullName,
        emailVerifiedAt: null,
        isActive: true,
        lastOrgId: null,
        twoFactorEnabled: false,
        createdAt: now,
        updatedAt: now,
      };
      const inserted: unknown[] = await m.query(
        `INSERT INTO users (id, email, password_hash, full_name, email_verified_at, is_active, last_org_id, two_factor_enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULL, true, NULL, false, $5, $5) ON CONFLICT DO NOTHING RETURNING id`,
        [user.id, user.email, user.passwordHash, user.fullName, now],
      );
      if (inserted.length === 0) throw AppException.conflict(ErrorCode.EmailTaken, 'An account with this email already exists.');
      // With an invitation: its org and role, no personal org, the email counts as verified, no verification email.
      const invited = dto.invitation_token ? await this.redeemInvitation(dto.invitation_token, email, user.id) : null;
      const org = invited ? { id: invited.orgId } : await this.orgs.createWithOwner({ name: personalOrgName(fullName) }, user.id);
      user.lastOrgId = org.id;
      if (invited) user.emailVerifiedAt = now;
      await m.update(UserEntity, { id: user.id }, { lastOrgId: org.id, emailVerifiedAt: user.emailVerifiedAt });
      await this.users.invalidate(user.id);
      if (!invited) await this.accountEmails.queueVerification(user);
      const created = await this.sessions.create({
        userId: user.id,
        orgId: org.id,
        ip: ctx?.ip ?? null,
        userAgent: ctx?.userAgent ?? null,
      });
      await this.audit.record({
        action: AuditAction.UserRegistered,
        targetType: AuditTargetType.User,
        targetId: user.id,
        actorId: user.id,
        userEmail: user.email,
        orgId: org.id,
        metadata: { via_invitation: invited !== null },
      });
      return { user, ...created };
    });
    return this.tokenResponse(user, session, refreshToken);
  }

  private async redeemInvitation(token: string, email: string, userId: string): Promise<{ orgId: string }> {
    if (!this.invitations) throw AppException.notFound(ErrorCode.InvitationNotFound, 'Invitation not found.');
    return this.invitations.redeemForRegistration(token, email, userId);
  }

  /**
   * Password, then (when on) the second factor. Both kinds of failure count toward the account's lockout
   * (keyed by the email, known or not); while locked every attempt gets the same 429.
   */
  async login(dto: LoginDto): Promise<TokenResponseDto> {
    const email = normalizeEmail(dto.email);
    await this.lockout.assertNotLocked(['password', 'two_factor'], email);
    const user = await this.users.findByEmail(email);
    const ok = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !ok || !user.isActive) {
      await this.lockout.recordFailure('password', email);
      const reason = !user
        ? LoginFailureReason.UnknownEmail
        : !ok
          ? LoginFailureReason.InvalidPassword
          : LoginFailureReason.AccountDisabled;
      await this.recordLoginFailure(user, email, reason);
      throw AppException.unauthorized(ErrorCode.InvalidCredentials, 'The email or password is not correct.');
    }
    if (user.twoFactorEnabled) {
      if (!dto.two_factor_code) {
        throw AppException.unauthorized(
          ErrorCode.TwoFactorRequired,
          'Two-factor login is on: send two_factor_code (a TOTP code or a backup code).',
        );
      }
      if (!(await this.twoFactor.verify(user.id, dto.two_factor_code))) {
        await this.lockout.recordFailure('two_factor', email);
        await this.recordLoginFailure(user, email, LoginFailureReason.InvalidTwoFactorCode);
        throw AppException.unauthorized(ErrorCode.InvalidTwoFactorCode, 'The two-factor code is not correct.');
      }
    }
    await this.lockout.clear(['password', 'two_factor'], email);
    const ctx = RequestContext.current();
    const orgId = await this.loginScope(user);
    const { session, refreshToken } = await this.tx.run(async () => {
      const created = await this.sessions.create({ userId: user.id, orgId, ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null });
      await this.audit.record({
        action: AuditAction.UserLoggedIn,
        targetType: AuditTargetType.User,
        targetId: user.id,
        actorId: user.id,
        userEmail: user.email,
        orgId,
        metadata: { session_id: created.session.id },
      });
      return created;
    });
    return this.tokenResponse(user, session, refreshToken);
  }

  /**
   * user.login_failed, in its own transaction (the request fails; the row stays). Anonymous (no actor);
   * `user_email` is the email tried; the org is the one a new session of that user would be scoped to.
   */
  private async recordLoginFailure(user: UserEntity | null, email: string, reason: LoginFailureReason): Promise<void> {
    await this.audit.record({
      action: AuditAction.UserLoginFailed,
      targetType: AuditTargetType.User,
      targetId: user?.id ?? null,
      actorId: null,
      userEmail: user?.email ?? normalizeEmail(email),
      orgId: user ? await this.loginScope(user) : null,
      metadata: { reason },
    });
  }

  /** The org the user was last scoped to if still a member, else the oldest membership, else none. */
  private async loginScope(user: UserEntity): Promise<string | null> {
    if (user.lastOrgId && (await this.memberships.access(user.id, user.lastOrgId))) return user.lastOrgId;
    return this.orgs.oldestMembershipOrg(user.id);
  }

  async refresh(refreshToken: string): Promise<TokenResponseDto> {
    const { session, refreshToken: next } = await this.sessions.rotate(refreshToken, async (reused) => {
      const owner = await this.users.findById(reused.userId);
      await this.audit.record({
        action: AuditAction.SessionRefreshReuseDetected,
        targetType: AuditTargetType.Session,
        targetId: reused.id,
        actorId: reused.userId,
        userEmail: owner?.email ?? null,
        orgId: reused.currentOrgId,
      });
    });
    const user = await this.users.findById(session.userId);
    if (!user || !user.isActive) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    return this.tokenResponse(user, session, next);
  }

  async switchOrg(sessionId: string, userId: string, orgId: string): Promise<TokenResponseDto> {
    const access = await this.memberships.access(userId, orgId.toLowerCase());
    if (!access) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
    const user = await this.users.findById(userId);
    const session = await this.sessions.findById(sessionId);
    if (!user || !session || session.revokedAt) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    const refreshToken = await this.tx.run(async () => {
      await this.sessions.setCurrentOrg(sessionId, access.orgId);
      await this.users.update(userId, { lastOrgId: access.orgId }, this.clock.now());
      return this.sessions.reissue(sessionId);
    });
    session.currentOrgId = access.orgId;
    user.lastOrgId = access.orgId;
    return this.tokenResponse(user, session, refreshToken);
  }

  async logout(sessionId: string): Promise<void> {
    await this.sessions.revoke([sessionId], 'logout');
  }

  async logoutAll(userId: string): Promise<void> {
    await this.tx.run(async () => {
      const ended = await this.sessions.revokeAllForUser(userId, 'logout_all');
      for (const id of ended) {
        await this.audit.record({
          action: AuditAction.SessionRevoked,
          targetType: AuditTargetType.Session,
          targetId: id,
          metadata: { reason: 'logout_all' },
        });
      }
    });
  }

  /** Served from memory: the user, the session's scope and the membership are all cached. */
  async me(userId: string, sessionId: string): Promise<MeDto> {
    // Both usually come from the memory caches: one after the other costs less than Promise.all then.
    const user = await this.users.findByIdCached(userId);
    const state = await this.sessions.state(sessionId);
    if (!user || !state || state.revoked) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    return toMe(user, await this.scopeOf(user.id, state.currentOrgId));
  }

  async updateMe(userId: string, sessionId: string, fullName: string): Promise<MeDto> {
    await this.users.update(userId, { fullName: fullName.trim() }, this.clock.now());
    return this.me(userId, sessionId);
  }

  async listSessions(userId: string, currentSessionId: string): Promise<SessionDto[]> {
    const sessions = await this.sessions.findLive(userId);
    return sessions.map((s) => ({
      id: s.id,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt.toISOString(),
      ip_address: s.ipAddress,
      user_agent: s.userAgent,
      current: s.id === currentSessionId,
    }));
  }

  async revokeSession(userId: string, sessionId: string): Promise<void> {
    const session = await this.sessions.findOwn(userId, sessionId);
    if (!session) throw AppException.notFound(ErrorCode.NotFound, 'Session not found.');
    await this.sessions.revoke([session.id], 'revoked_by_user');
  }

  /** The current role and permissions of a user in an org, fresh (a lost membership scopes to nothing). */
  private async scopeOf(userId: string, orgId: string | null): Promise<Scope> {
    const access = orgId ? await this.memberships.access(userId, orgId) : null;
    if (!access) return { orgId: null, roleName: null, permissions: [] };
    return { orgId: access.orgId, roleName: access.role.name, permissions: sortedPermissions(access.role) };
  }

  private async tokenResponse(user: UserEntity, session: SessionEntity, refreshToken: string): Promise<TokenResponseDto> {
    const scope = await this.scopeOf(user.id, session.currentOrgId);
    const org = scope.orgId ? await this.orgs.findCached(scope.orgId) : null;
    const accessToken = this.tokens.signAccess({
      userId: user.id,
      sessionId: session.id,
      orgId: scope.orgId,
      orgRole: scope.roleName,
      permissions: scope.permissions,
    });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.tokens.accessTtlSeconds,
      user: toMe(user, scope),
      organization: org ? { id: org.id, name: org.name, slug: org.slug } : null,
      role: scope.roleName,
    };
  }
}

/** A role's permissions as a sorted list, computed once per resolved role (roles are cached and immutable). */
const sortedByRole = new WeakMap<ResolvedRole, string[]>();
function sortedPermissions(role: ResolvedRole): string[] {
  let sorted = sortedByRole.get(role);
  if (!sorted) sortedByRole.set(role, (sorted = [...role.permissions].sort()));
  return sorted;
}

function personalOrgName(fullName: string): string {
  return `${fullName}'s organization`;
}

function toMe(user: UserEntity, scope: Scope): MeDto {
  return {
    id: user.id,
    email: user.email,
    full_name: user.fullName,
    email_verified: user.emailVerifiedAt !== null,
    two_factor_enabled: user.twoFactorEnabled,
    created_at: user.createdAt.toISOString(),
    current_org_id: scope.orgId,
    current_org_role: scope.roleName,
    permissions: scope.permissions,
  };
}
