/**
 * The audit catalog (API.md "Audit log"): actions are dotted and past tense; each names the kind of
 * thing it happened to (`target_type`). A new action goes here, with its target type in the comment.
 */
export const AuditAction = {
  // target_type user (the target is the user)
  UserRegistered: 'user.registered',
  UserLoggedIn: 'user.logged_in',
  UserLoginFailed: 'user.login_failed',
  UserLoggedOut: 'user.logged_out',
  UserPasswordChanged: 'user.password_changed',
  UserPasswordReset: 'user.password_reset',
  UserEmailVerified: 'user.email_verified',
  UserTwoFactorEnabled: 'user.two_factor_enabled',
  UserTwoFactorDisabled: 'user.two_factor_disabled',
  // target_type session
  SessionRevoked: 'session.revoked',
  SessionRefreshReuseDetected: 'session.refresh_reuse_detected',
  // target_type org
  OrgCreated: 'org.created',
  OrgUpdated: 'org.updated',
  OrgDeleted: 'org.deleted',
  // target_type invitation
  MemberInvited: 'member.invited',
  InvitationAccepted: 'invitation.accepted',
  InvitationRevoked: 'invitation.revoked',
  // target_type member (target_id is the member's user id)
  MemberRoleChanged: 'member.role_changed',
  MemberRemoved: 'member.removed',
  MemberLeft: 'member.left',
  // target_type role
  RoleCreated: 'role.created',
  RoleUpdated: 'role.updated',
  RoleDeleted: 'role.deleted',
  // target_type flag (target_id is the flag key)
  FlagUpdated: 'flag.updated',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

export const AuditTargetType = {
  User: 'user',
  Session: 'session',
  Org: 'org',
  Invitation: 'invitation',
  Member: 'member',
  Role: 'role',
  Flag: 'flag',
} as const;
export type AuditTargetType = (typeof AuditTargetType)[keyof typeof AuditTargetType];

/** `user.login_failed` reasons (metadata.reason). */
export const LoginFailureReason = {
  UnknownEmail: 'unknown_email',
  InvalidPassword: 'invalid_password',
  AccountDisabled: 'account_disabled',
  InvalidTwoFactorCode: 'invalid_two_factor_code',
} as const;
export type LoginFailureReason = (typeof LoginFailureReason)[keyof typeof LoginFailureReason];

/**
 * The permission the audit routes need. The one definition: libs/rbac's catalog (above this lib) uses it
 * for `Permission.AuditRead`.
 */
export const AUDIT_READ_PERMISSION = 'audit.read';

/** The metadata key @Audit writes on a handler (its AuditSpec). */
export const AUDIT_METADATA = 'saasready:audit';

/** prev_hash of the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
