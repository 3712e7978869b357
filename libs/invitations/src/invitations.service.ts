import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { normalizeEmail, RedeemedInvitation, RegistrationInvitations, UserService } from '@saasready/auth';
import {
  APP_CONFIG,
  AppConfig,
  AppException,
  Clock,
  ErrorCode,
  newId,
  randomToken,
  sha256,
  TransactionService,
  returnedRows,
} from '@saasready/core';
import { MailService, MailTemplates } from '@saasready/mail';
import { assertCanGrant, Permission, RoleService, RoleUsageRegistry } from '@saasready/rbac';
import { MembershipService, OrganizationService, OrgLockService } from '@saasready/tenancy';
import { effectiveStatus, InvitationStatus } from './invitation.entity';
import { AcceptInvitationResponseDto, InvitationDto, InvitationPreviewDto, InvitationWithTokenDto } from './dto/invitation.dto';

/** An invitation row with its role name (every read joins it). */
interface InvitationRow {
  id: string;
  org_id: string;
  email: string;
  role_id: string;
  role_name: string;
  token_hash: string;
  status: InvitationStatus;
  expires_at: Date;
  invited_by: string | null;
  accepted_by: string | null;
  created_at: Date;
}

const SELECT = `SELECT i.id, i.org_id, i.email, i.role_id, r.name AS role_name, i.token_hash, i.status, i.expires_at, i.invited_by,
                       i.accepted_by, i.created_at
                  FROM invitations i JOIN roles r ON r.id = i.role_id`;

const notFound = () => AppException.notFound(ErrorCode.InvitationNotFound, 'Invitation not found.');
const notPending = () => new AppException(410, ErrorCode.InvitationNotPending, 'This invitation was already accepted or revoked.');
const expired = () => new AppException(410, ErrorCode.InvitationExpired, 'This invitation has expired; ask for a new one.');
const mismatch = () =>
  new AppException(403, ErrorCode.InvitationEmailMismatch, 'This invitation was sent to another email address than your account’s.');

function sameEmail(a: string, b: string): boolean {
  return normalizeEmail(a).toLowerCase() === normalizeEmail(b).toLowerCase();
}

/**
 * Invitations: create (queues the email in the same transaction), list, revoke, resend, preview, accept,
 * and the redemption at registration (the REGISTRATION_INVITATIONS seam of libs/auth). Writes of an org's
 * invitations run under its row lock (OrgLockService) and apply the grant rule with the actor's role as
 * stored now. An invitation is used at most once: acceptance is a conditional UPDATE (status 'pending'
 * and not expired), so of any number of concurrent accepts exactly one wins.
 */
@Injectable()
export class InvitationsService implements RegistrationInvitations, OnModuleInit {
  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly lock: OrgLockService,
    private readonly roles: RoleService,
    private readonly roleUsage: RoleUsageRegistry,
    private readonly memberships: MembershipService,
    private readonly orgs: OrganizationService,
    private readonly users: UserService,
    private readonly mail: MailService,
    private readonly templates: MailTemplates,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // A custom role named by a pending invitation cannot be deleted (409 role_in_use).
    this.roleUsage.register('invitations', async (orgId, roleId) => {
      const rows: unknown[] = await this.tx
        .manager()
        .query(`SELECT 1 FROM invitations WHERE org_id = $1 AND role_id = $2 AND status = 'pending' AND expires_at > $3 LIMIT 1`, [
          orgId,
          roleId,
          this.clock.now(),
        ]);
      return rows.length > 0;
    });
  }

  /** POST /orgs/{org_id}/invitations */
  async create(orgId: string, actorId: string, input: { email: string; roleId: string }): Promise<InvitationWithTokenDto> {
    return this.tx.run(async (m) => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.UserInvite);
      const role = await this.roles.findInOrg(input.roleId, orgId);
      if (!role) throw new AppException(400, ErrorCode.InvalidRole, 'The role does not exist in this organization.');
      assertCanGrant(actor.role.permissions, role.permissions);
      const email = normalizeEmail(input.email);
      await this.assertNotMember(orgId, email);
      const now = this.clock.now();
      // An expired invitation no longer holds the email's one pending slot.
      await m.query(
        `UPDATE invitations SET status = 'expired', updated_at = $3
          WHERE org_id = $1 AND lower(email) = lower($2) AND status = 'pending' AND expires_at <= $3`,
        [orgId, email, now],
      );
      const token = randomToken(32);
      const id = newId();
      const inserted: unknown[] = await m.query(
        `INSERT INTO invitations (id, org_id, email, role_id, token_hash, status, expires_at, invited_by, accepted_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, NULL, $8, $8)
         ON CONFLICT (org_id, lower(email)) WHERE status = 'pending' DO NOTHING RETURNING id`,
        [id, orgId, email, role.id, sha256(token), this.expiry(now), actorId, now],
      );
      if (inserted.length === 0) throw AppException.conflict(ErrorCode.InvitationPending, 'This email already has a pending invitation.');
      const row = await this.load(id);
      await this.sendEmail(row, token, actorId);
      await this.audit.record({
        action: AuditAction.MemberInvited,
        targetType: AuditTargetType.Invitation,
        targetId: id,
        orgId,
        metadata: { email, role_id: role.id, role_name: role.name },
      });
      return { ...toDto(row, now), token };
    });
  }

  /** GET /orgs/{org_id}/invitations: newest first, keyset-paged on the id (UUIDv7). Never the token. */
  async list(
    orgId: string,
    page: { status?: InvitationStatus; limit: number; beforeId: string | null },
  ): Promise<{ key: string; dto: InvitationDto }[]> {
    const now = this.clock.now();
    const params: unknown[] = [orgId, page.beforeId, page.limit + 1];
    const p = (v: unknown) => `$${params.push(v)}`;
    let filter = '';
    if (page.status === InvitationStatus.Pending) filter = `AND i.status = 'pending' AND i.expires_at > ${p(now)}`;
    else if (page.status === InvitationStatus.Expired)
      filter = `AND (i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= ${p(now)}))`;
    else if (page.status) filter = `AND i.status = ${p(page.status)}`;
    const rows: InvitationRow[] = await this.tx
      .manager()
      .query(`${SELECT} WHERE i.org_id = $1 AND ($2::uuid IS NULL OR i.id < $2::uuid) ${filter} ORDER BY i.id DESC LIMIT $3`, params);
    return rows.map((r) => ({ key: r.id, dto: toDto(r, now) }));
  }

  /** DELETE /orgs/{org_id}/invitations/{id}: a pending (or expired) invitation becomes revoked; its link stops working. */
  async revoke(orgId: string, actorId: string, invitationId: string): Promise<void> {
    await this.tx.run(async (m) => {
      await this.lock.acquire(orgId, actorId, Permission.UserInvite);
      const row = await this.findInOrg(invitationId, orgId);
      if (row.status === InvitationStatus.Accepted || row.status === InvitationStatus.Revoked) throw notPending();
      await m.query(`UPDATE invitations SET status = 'revoked', updated_at = $2 WHERE id = $1`, [row.id, this.clock.now()]);
      await this.audit.record({
        action: AuditAction.InvitationRevoked,
        targetType: AuditTargetType.Invitation,
        targetId: row.id,
        orgId,
        metadata: { email: row.email, role_id: row.role_id },
      });
    });
  }

  /**
   * POST /orgs/{org_id}/invitations/{id}/resend: a pending or expired invitation gets a new token and
   * expiry (the old link stops working) and its email is queued again. Accepted or revoked: 410.
   */
  async resend(orgId: string, actorId: string, invitationId: string): Promise<InvitationWithTokenDto> {
    return this.tx.run(async (m) => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.UserInvite);
      const row = await this.findInOrg(invitationId, orgId);
      if (row.status === InvitationStatus.Accepted || row.status === InvitationStatus.Revoked) throw notPending();
      const role = await this.roles.findInOrg(row.role_id, orgId);
      if (!role) throw new AppException(400, ErrorCode.InvalidRole, 'The role of this invitation no longer exists.');
      assertCanGrant(actor.role.permissions, role.permissions);
      await this.assertNotMember(orgId, row.email);
      if (row.status === InvitationStatus.Expired) {
        const other: unknown[] = await m.query(
          `SELECT 1 FROM invitations WHERE org_id = $1 AND lower(email) = lower($2) AND status = 'pending' AND id <> $3`,
          [orgId, row.email, row.id],
        );
        if (other.length) throw AppException.conflict(ErrorCode.InvitationPending, 'This email already has a newer pending invitation.');
      }
      const now = this.clock.now();
      const token = randomToken(32);
      await m.query(`UPDATE invitations SET token_hash = $2, expires_at = $3, status = 'pending', updated_at = $4 WHERE id = $1`, [
        row.id,
        sha256(token),
        this.expiry(now),
        now,
      ]);
      const fresh = await this.load(row.id);
      await this.sendEmail(fresh, token, actorId);
      return { ...toDto(fresh, now), token };
    });
  }

  /** POST /invitations/preview: what the invitation is, for any status; unknown or voided token: 404. */
  async preview(token: string): Promise<InvitationPreviewDto> {
    const row = await this.findByToken(token);
    if (!row) throw notFound();
    const org = await this.orgs.findById(row.org_id);
    if (!org) throw notFound();
    return {
      organization: { id: org.id, name: org.name },
      email: row.email,
      role_name: row.role_name,
      expires_at: new Date(row.expires_at).toISOString(),
      status: effectiveStatus({ status: row.status, expiresAt: new Date(row.expires_at) }, this.clock.now()),
    };
  }

  /**
   * POST /invitations/accept: the caller joins the org with the invited role. Their email must be the
   * invited one (403, and the invitation stays pending). The caller's sessions keep their scope.
   */
  async accept(token: string, userId: string): Promise<AcceptInvitationResponseDto> {
    return this.tx.run(async () => {
      const user = await this.users.findById(userId);
      if (!user) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
      const joined = await this.redeem(token, user.email, userId, () => {
        throw AppException.conflict(ErrorCode.AlreadyMember, 'You are already a member of this organization.');
      });
      const org = await this.orgs.findById(joined.orgId);
      if (!org) throw notFound();
      return { organization: { id: org.id, name: org.name, slug: org.slug }, role: joined.roleName };
    });
  }

  /** The REGISTRATION_INVITATIONS seam: runs inside the register transaction (see libs/auth). */
  async redeemForRegistration(token: string, email: string, userId: string): Promise<RedeemedInvitation> {
    return this.redeem(token, email, userId, () => {
      throw AppException.conflict(ErrorCode.AlreadyMember, 'This account is already a member of the organization.');
    });
  }

  /** Checks, claims (conditional UPDATE) and turns the invitation into a membership; joins the ambient transaction. */
  private async redeem(token: string, email: string, userId: string, onAlreadyMember: () => never): Promise<RedeemedInvitation> {
    return this.tx.run(async (m) => {
      const row = await this.findByToken(token);
      if (!row) throw notFound();
      this.assertRedeemable(row);
      if (!sameEmail(row.email, email)) throw mismatch();
      // Serializes with the org's other writes (role deletion, member changes, other accepts).
      await this.lock.lock(row.org_id);
      const now = this.clock.now();
      const claimed = returnedRows<{ id: string }>(
        await m.query(
          `UPDATE invitations SET status = 'accepted', accepted_by = $2, updated_at = $3
            WHERE id = $1 AND status = 'pending' AND expires_at > $3 RETURNING id`,
          [row.id, userId, now],
        ),
      );
      if (claimed.length === 0) {
        // Another accept won the race (or it was revoked or expired meanwhile): report the status it has now.
        this.assertRedeemable((await this.findByToken(token)) ?? row);
        throw notPending();
      }
      const inserted: unknown[] = await m.query(
        `INSERT INTO memberships (id, org_id, user_id, role_id, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, user_id) DO NOTHING RETURNING id`,
        [newId(), row.org_id, userId, row.role_id, now],
      );
      if (inserted.length === 0) onAlreadyMember();
      await this.memberships.invalidate(userId, row.org_id);
      await this.audit.record({
        action: AuditAction.InvitationAccepted,
        targetType: AuditTargetType.Invitation,
        targetId: row.id,
        orgId: row.org_id,
        actorId: userId,
        userEmail: email,
        metadata: { role_id: row.role_id, role_name: row.role_name },
      });
      return { orgId: row.org_id, roleId: row.role_id, roleName: row.role_name };
    });
  }

  private assertRedeemable(row: InvitationRow): void {
    const status = effectiveStatus({ status: row.status, expiresAt: new Date(row.expires_at) }, this.clock.now());
    if (status === InvitationStatus.Expired) throw expired();
    if (status !== InvitationStatus.Pending) throw notPending();
  }

  private async assertNotMember(orgId: string, email: string): Promise<void> {
    const rows: unknown[] = await this.tx
      .manager()
      .query(`SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND lower(u.email) = lower($2)`, [
        orgId,
        email,
      ]);
    if (rows.length) throw AppException.conflict(ErrorCode.AlreadyMember, 'A member of this organization already has this email.');
  }

  private async sendEmail(row: InvitationRow, token: string, inviterId: string): Promise<void> {
    const org = await this.orgs.findById(row.org_id);
    const inviter = await this.users.findById(inviterId);
    await this.mail.enqueue(
      this.templates.invitation({
        to: row.email,
        orgName: org?.name ?? 'an organization',
        inviterName: inviter?.fullName ?? 'Someone',
        roleName: row.role_name,
        token,
        expiresAt: new Date(row.expires_at),
      }),
    );
  }

  private expiry(now: Date): Date {
    return new Date(now.getTime() + this.config.invitationTtlMs);
  }

  private async load(id: string): Promise<InvitationRow> {
    const rows: InvitationRow[] = await this.tx.manager().query(`${SELECT} WHERE i.id = $1`, [id]);
    if (!rows[0]) throw notFound();
    return rows[0];
  }

  /** Scoped by org: an invitation of another org is not found. */
  private async findInOrg(id: string, orgId: string): Promise<InvitationRow> {
    const rows: InvitationRow[] = await this.tx.manager().query(`${SELECT} WHERE i.id = $1 AND i.org_id = $2`, [id, orgId]);
    if (!rows[0]) throw notFound();
    return rows[0];
  }

  private async findByToken(token: string): Promise<InvitationRow | null> {
    const rows: InvitationRow[] = await this.tx.manager().query(`${SELECT} WHERE i.token_hash = $1`, [sha256(token)]);
    return rows[0] ?? null;
  }
}

function toDto(r: InvitationRow, now: Date): InvitationDto {
  const expiresAt = new Date(r.expires_at);
  return {
    id: r.id,
    email: r.email,
    role_id: r.role_id,
    role_name: r.role_name,
    status: effectiveStatus({ status: r.status, expiresAt }, now),
    expires_at: expiresAt.toISOString(),
    invited_by: r.invited_by,
    created_at: new Date(r.created_at).toISOString(),
  };
}
