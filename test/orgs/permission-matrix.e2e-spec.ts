import { BUILT_IN_ROLE_PERMISSIONS, BuiltInRole, Permission } from '@saasready/rbac';
import { MembersController, OrgsController, RolesController } from '@saasready/tenancy';
import { createTestApp, TestApp } from '../support/test-app';
import { BuiltInRoleName, expectProblem, givenMember, givenUser, GivenUser } from '../support/factories';
import { discoverRoutes } from '../support/routes';

const API = '/api/v1';

interface Fixture {
  orgId: string;
  /** A Viewer of the org that the caller acts on (member routes). */
  targetId: string;
  /** A custom role of the org, held by nobody (role routes). */
  roleId: string;
}

interface MatrixRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** With `{org_id}`, `{user_id}`, `{role_id}`. */
  path: string;
  permission: Permission;
  /** The status when the caller holds the permission. */
  success: number;
  body?: Record<string, unknown>;
}

/** Every org-scoped route of the tenancy lib and the permission API.md gives it. */
const ROUTES: MatrixRoute[] = [
  { method: 'GET', path: '/orgs/{org_id}', permission: Permission.OrgRead, success: 200 },
  { method: 'PATCH', path: '/orgs/{org_id}', permission: Permission.OrgUpdate, success: 200, body: { name: 'Renamed' } },
  { method: 'DELETE', path: '/orgs/{org_id}', permission: Permission.OrgDelete, success: 204 },
  { method: 'GET', path: '/orgs/{org_id}/members', permission: Permission.UserRead, success: 200 },
  {
    method: 'PATCH',
    path: '/orgs/{org_id}/members/{user_id}',
    permission: Permission.UserManage,
    success: 200,
    body: { role_id: BuiltInRole.Member.id },
  },
  { method: 'DELETE', path: '/orgs/{org_id}/members/{user_id}', permission: Permission.UserManage, success: 204 },
  { method: 'GET', path: '/orgs/{org_id}/roles', permission: Permission.OrgRead, success: 200 },
  {
    method: 'POST',
    path: '/orgs/{org_id}/roles',
    permission: Permission.RoleManage,
    success: 201,
    body: { name: 'Matrix role', permissions: ['org.read'] },
  },
  {
    method: 'PATCH',
    path: '/orgs/{org_id}/roles/{role_id}',
    permission: Permission.RoleManage,
    success: 200,
    body: { description: 'changed' },
  },
  { method: 'DELETE', path: '/orgs/{org_id}/roles/{role_id}', permission: Permission.RoleManage, success: 204 },
];

type Caller = BuiltInRoleName | 'non-member';
const CALLERS: Caller[] = ['Owner', 'Admin', 'Member', 'Viewer', 'non-member'];

function expected(route: MatrixRoute, caller: Caller): { status: number; code?: string } {
  if (caller === 'non-member') return { status: 404, code: 'org_not_found' };
  return BUILT_IN_ROLE_PERMISSIONS[caller].includes(route.permission)
    ? { status: route.success }
    : { status: 403, code: 'permission_denied' };
}

describe('permission matrix: every org route x every built-in role', () => {
  let t: TestApp;
  const users = {} as Record<Caller, GivenUser>;
  beforeAll(async () => {
    t = await createTestApp();
    for (const c of CALLERS) users[c] = await givenUser(t, { fullName: `Matrix ${c}` });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A fresh org per case (the Owner creates it), so a case's writes cannot leak into the next. */
  async function fixture(): Promise<Fixture> {
    const org = await t.http().post(`${API}/orgs`).set(users.Owner.auth).send({ name: 'Matrix org' }).expect(201);
    const ref = { id: org.body.id as string };
    for (const c of ['Admin', 'Member', 'Viewer'] as const) await givenMember(t, ref, c, users[c]);
    const target = await givenMember(t, ref, 'Viewer');
    const role = await t
      .http()
      .post(`${API}/orgs/${ref.id}/roles`)
      .set(users.Owner.auth)
      .send({ name: 'Spare', permissions: ['org.read'] })
      .expect(201);
    return { orgId: ref.id, targetId: target.id, roleId: role.body.id };
  }

  it('covers every @RequirePermission route of the orgs, members and roles controllers, with the same permission', () => {
    const declared = discoverRoutes(t)
      .filter(
        (r) => [OrgsController, MembersController, RolesController].includes(r.controller as never) && r.access?.kind === 'permission',
      )
      .map((r) => `${r.method} ${r.path} ${(r.access as { permission: string }).permission}`)
      .sort();
    const table = ROUTES.map((r) => `${r.method} ${API}${r.path} ${r.permission}`).sort();
    expect(table).toEqual(declared);
  });

  const cases = ROUTES.flatMap((route) => CALLERS.map((caller) => ({ route, caller, ...expected(route, caller) })));

  it.each(cases)('$route.method $route.path as $caller: $status', async ({ route, caller, status, code }) => {
    const f = await fixture();
    const url = API + route.path.replace('{org_id}', f.orgId).replace('{user_id}', f.targetId).replace('{role_id}', f.roleId);
    const req = t.http()[route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](url).set(users[caller].auth);
    const res = await (route.body ? req.send(route.body) : req);
    if (code) expectProblem(res, status, code);
    else expect({ status: res.status, body: res.body }).toEqual({ status, body: expect.anything() });
  });
});
