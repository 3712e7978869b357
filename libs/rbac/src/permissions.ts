import { AUDIT_READ_PERMISSION } from '@saasready/audit';

/**
 * The permission catalog. A new permission goes here (with its description), then into the built-in
 * roles below if they should hold it.
 */
export const Permission = {
  OrgRead: 'org.read',
  OrgUpdate: 'org.update',
  OrgDelete: 'org.delete',
  UserRead: 'user.read',
  UserInvite: 'user.invite',
  UserManage: 'user.manage',
  RoleManage: 'role.manage',
  AuditRead: AUDIT_READ_PERMISSION, // defined by libs/audit (below this lib), whose routes check it
  FlagManage: 'flag.manage',
  ApiKeyManage: 'api_key.manage',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'org.read': 'View the organization, its roles and its feature flags',
  'org.update': 'Change the organization name, slug and metadata',
  'org.delete': 'Delete the organization',
  'user.read': 'List the members of the organization',
  'user.invite': 'Invite people and manage pending invitations',
  'user.manage': "Change members' roles and remove members",
  'role.manage': 'Create, change and delete custom roles',
  'audit.read': 'Read and export the audit log',
  'flag.manage': 'Override feature flags for the organization',
  'api_key.manage': 'Manage API keys of the organization',
};

export const ALL_PERMISSIONS: readonly Permission[] = Object.values(Permission);

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (ALL_PERMISSIONS as readonly string[]).includes(value);
}

/** Built-in roles: the same four in every organization, fixed ids, seeded by a migration, never edited. */
export const BuiltInRole = {
  Owner: { id: '00000000-0000-7000-8000-000000000001', name: 'Owner' },
  Admin: { id: '00000000-0000-7000-8000-000000000002', name: 'Admin' },
  Member: { id: '00000000-0000-7000-8000-000000000003', name: 'Member' },
  Viewer: { id: '00000000-0000-7000-8000-000000000004', name: 'Viewer' },
} as const;

export const BUILT_IN_ROLE_PERMISSIONS: Record<keyof typeof BuiltInRole, readonly Permission[]> = {
  Owner: ALL_PERMISSIONS,
  Admin: ALL_PERMISSIONS.filter((p) => p !== Permission.OrgDelete),
  Member: [Permission.OrgRead, Permission.UserRead],
  Viewer: [Permission.OrgRead],
};

export const BUILT_IN_ROLE_DESCRIPTIONS: Record<keyof typeof BuiltInRole, string> = {
  Owner: 'Full control, including deleting the organization',
  Admin: 'Manage the organization, its members and roles; cannot delete it',
  Member: 'Use the organization and see its members',
  Viewer: 'Read-only access to the organization',
};

export const BUILT_IN_ROLE_IDS: ReadonlySet<string> = new Set(Object.values(BuiltInRole).map((r) => r.id));
export const BUILT_IN_ROLE_NAMES: ReadonlySet<string> = new Set(Object.values(BuiltInRole).map((r) => r.name.toLowerCase()));
