import { canEditRole, canGrant, canManage, removesLastOwner } from './grant-rules';
import { BUILT_IN_ROLE_PERMISSIONS, BuiltInRole } from './permissions';

const perms = (role: keyof typeof BuiltInRole) => new Set<string>(BUILT_IN_ROLE_PERMISSIONS[role]);

describe('grant rules', () => {
  it('grants only subsets of the actor’s permissions', () => {
    expect(canGrant(perms('Owner'), BUILT_IN_ROLE_PERMISSIONS.Owner)).toBe(true);
    expect(canGrant(perms('Admin'), BUILT_IN_ROLE_PERMISSIONS.Owner)).toBe(false);
    expect(canGrant(perms('Admin'), BUILT_IN_ROLE_PERMISSIONS.Admin)).toBe(true);
    expect(canGrant(perms('Admin'), ['org.read', 'audit.read'])).toBe(true);
    expect(canGrant(perms('Member'), BUILT_IN_ROLE_PERMISSIONS.Viewer)).toBe(true);
    expect(canGrant(perms('Viewer'), BUILT_IN_ROLE_PERMISSIONS.Member)).toBe(false);
    expect(canGrant(new Set(), [])).toBe(true);
  });

  it('manages only members whose role holds nothing the actor lacks', () => {
    expect(canManage(perms('Admin'), BUILT_IN_ROLE_PERMISSIONS.Owner)).toBe(false);
    expect(canManage(perms('Owner'), BUILT_IN_ROLE_PERMISSIONS.Owner)).toBe(true);
    expect(canManage(perms('Admin'), BUILT_IN_ROLE_PERMISSIONS.Member)).toBe(true);
  });

  it('edits a role only when holding what it has before and after', () => {
    const admin = perms('Admin');
    expect(canEditRole(admin, ['org.read'], ['org.read', 'user.read'])).toBe(true);
    expect(canEditRole(admin, ['org.read', 'org.delete'], ['org.read'])).toBe(false); // cannot weaken a stronger role
    expect(canEditRole(admin, ['org.read'], ['org.delete'])).toBe(false); // cannot strengthen past itself
    expect(canEditRole(admin, ['org.read'])).toBe(true);
  });

  it('keeps an Owner', () => {
    const owner = BuiltInRole.Owner.id;
    const admin = BuiltInRole.Admin.id;
    expect(removesLastOwner({ ownerCount: 1, fromRoleId: owner, toRoleId: admin })).toBe(true);
    expect(removesLastOwner({ ownerCount: 1, fromRoleId: owner, toRoleId: null })).toBe(true);
    expect(removesLastOwner({ ownerCount: 1, fromRoleId: owner, toRoleId: owner })).toBe(false);
    expect(removesLastOwner({ ownerCount: 2, fromRoleId: owner, toRoleId: null })).toBe(false);
    expect(removesLastOwner({ ownerCount: 1, fromRoleId: admin, toRoleId: null })).toBe(false);
  });
});
