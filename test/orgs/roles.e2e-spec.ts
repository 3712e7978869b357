import { ALL_PERMISSIONS, BuiltInRole } from '@saasready/rbac';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

const API = '/api/v1';

describe('roles: list, create, update, delete custom roles', () => {
  let t: TestApp;
  let owner: GivenUser;
  let org: { id: string };
  beforeAll(async () => {
    t = await createTestApp();
    owner = await givenUser(t);
    org = await givenOrg(t, owner);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (actor: GivenUser, orgId: string, body: Record<string, unknown>) =>
    t.http().post(`${API}/orgs/${orgId}/roles`).set(actor.auth).send(body);
  const update = (actor: GivenUser, orgId: string, roleId: string, body: Record<string, unknown>) =>
    t.http().patch(`${API}/orgs/${orgId}/roles/${roleId}`).set(actor.auth).send(body);
  const del = (actor: GivenUser, orgId: string, roleId: string) => t.http().delete(`${API}/orgs/${orgId}/roles/${roleId}`).set(actor.auth);

  it('lists the four built-ins first (is_system), then custom roles, with permissions in catalog order', async () => {
    const custom = await create(owner, org.id, {
      name: 'Auditor',
      description: 'Reads the log',
      permissions: ['audit.read', 'org.read'],
    }).expect(201);
    expect(custom.body).toEqual({
      id: expect.any(String),
      name: 'Auditor',
      description: 'Reads the log',
      permissions: ['org.read', 'audit.read'],
      is_system: false,
    });
    const res = await t.http().get(`${API}/orgs/${org.id}/roles`).set(owner.auth).expect(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data.map((r: { name: string }) => r.name)).toEqual(['Owner', 'Admin', 'Member', 'Viewer', 'Auditor']);
    expect(res.body.data[0]).toEqual({
      id: BuiltInRole.Owner.id,
      name: 'Owner',
      description: expect.any(String),
      permissions: [...ALL_PERMISSIONS],
      is_system: true,
    });
    expect(res.body.data.find((r: { name: string }) => r.name === 'Viewer').permissions).toEqual(['org.read']);
    // another org does not see it
    const other = await givenOrg(t, owner);
    const otherList = await t.http().get(`${API}/orgs/${other.id}/roles`).set(owner.auth).expect(200);
    expect(otherList.body.data.map((r: { name: string }) => r.name)).toEqual(['Owner', 'Admin', 'Member', 'Viewer']);
  });

  it('names are unique per org, case-insensitively, and built-in names are reserved (409 role_name_taken)', async () => {
    await create(owner, org.id, { name: 'Support', permissions: ['org.read'] }).expect(201);
    expectProblem(await create(owner, org.id, { name: 'support', permissions: [] }), 409, 'role_name_taken');
    expectProblem(await create(owner, org.id, { name: '  SUPPORT ', permissions: [] }), 409, 'role_name_taken');
    for (const name of ['Owner', 'admin', 'MEMBER', 'viewer']) {
      expectProblem(await create(owner, org.id, { name, permissions: ['org.read'] }), 409, 'role_name_taken');
    }
    // the same name in another org is fine
    const other = await givenOrg(t, owner);
    await create(owner, other.id, { name: 'Support', permissions: ['org.read'] }).expect(201);
    // renaming onto a taken or built-in name
    const billing = await create(owner, org.id, { name: 'Billing', permissions: ['org.read'] }).expect(201);
    expectProblem(await update(owner, org.id, billing.body.id, { name: 'SUPPORT' }), 409, 'role_name_taken');
    expectProblem(await update(owner, org.id, billing.body.id, { name: 'Owner' }), 409, 'role_name_taken');
    // a change of case of its own name is not a conflict
    expect((await update(owner, org.id, billing.body.id, { name: 'BILLING' }).expect(200)).body.name).toBe('BILLING');
  });

  it('concurrent creates of one name: one 201, the rest 409', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => create(owner, org.id, { name: 'Racer', permissions: ['org.read'] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('role_name_taken');
  });

  it('refuses bad input with 400: unknown permission, non-array, blank name, unknown fields', async () => {
    const bad = [
      { name: 'X1', permissions: ['org.read', 'org.destroy'] },
      { name: 'X2', permissions: 'org.read' },
      { name: 'X3', permissions: [42] },
      { name: 'X4' },
      { name: '   ', permissions: [] },
      { name: 'x'.repeat(65), permissions: [] },
      { name: 'X5', permissions: [], is_system: true },
      { name: 'X6', permissions: [], org_id: org.id },
    ];
    for (const body of bad) expectProblem(await create(owner, org.id, body), 400, 'validation_failed');
    const role = await create(owner, org.id, { name: 'Valid', permissions: [] }).expect(201);
    expectProblem(await update(owner, org.id, role.body.id, { permissions: ['nope'] }), 400, 'validation_failed');
    expectProblem(await update(owner, org.id, role.body.id, { is_system: true }), 400, 'validation_failed');
    expectProblem(await update(owner, org.id, 'not-a-uuid', { name: 'y' }), 400, 'validation_failed');
    expectProblem(await del(owner, org.id, 'not-a-uuid'), 400, 'validation_failed');
  });

  it('updates a custom role (name, description, permissions), deduplicating permissions', async () => {
    const role = await create(owner, org.id, { name: 'Ops', permissions: ['org.read'] }).expect(201);
    const res = await update(owner, org.id, role.body.id, {
      name: 'Operations',
      description: 'Runs things',
      permissions: ['flag.manage', 'org.read', 'flag.manage'],
    }).expect(200);
    expect(res.body).toEqual({
      id: role.body.id,
      name: 'Operations',
      description: 'Runs things',
      permissions: ['org.read', 'flag.manage'],
      is_system: false,
    });
    const [row] = await t.sql<{ permissions: string[] }>(`SELECT permissions FROM roles WHERE id = $1`, [role.body.id]);
    expect(row.permissions).toEqual(['org.read', 'flag.manage']);
  });

  it('built-in roles cannot be changed or deleted (409 builtin_role), by anyone', async () => {
    for (const r of Object.values(BuiltInRole)) {
      expectProblem(await update(owner, org.id, r.id, { description: 'mine now' }), 409, 'builtin_role');
      expectProblem(await del(owner, org.id, r.id), 409, 'builtin_role');
    }
    const [row] = await t.sql<{ description: string }>(`SELECT description FROM roles WHERE id = $1`, [BuiltInRole.Owner.id]);
    expect(row.description).not.toBe('mine now');
  });

  it('a role held by a member cannot be deleted (409 role_in_use); once released it can', async () => {
    const role = await create(owner, org.id, { name: 'Held', permissions: ['org.read'] }).expect(201);
    const m = await givenMember(t, org, role.body.id);
    expectProblem(await del(owner, org.id, role.body.id), 409, 'role_in_use');
    await t.http().patch(`${API}/orgs/${org.id}/members/${m.id}`).set(owner.auth).send({ role_id: BuiltInRole.Viewer.id }).expect(200);
    await del(owner, org.id, role.body.id).expect(204);
    expect(await t.sql(`SELECT 1 FROM roles WHERE id = $1`, [role.body.id])).toHaveLength(0);
    expectProblem(await del(owner, org.id, role.body.id), 404, 'not_found');
  });

  it('deleting a role while it is being assigned: never a member holding a deleted role', async () => {
    for (let round = 0; round < 5; round++) {
      const role = await create(owner, org.id, { name: `Race ${round}`, permissions: ['org.read'] }).expect(201);
      const m = await givenMember(t, org, 'Viewer');
      const [assign, remove] = await Promise.all([
        t.http().patch(`${API}/orgs/${org.id}/members/${m.id}`).set(owner.auth).send({ role_id: role.body.id }),
        del(owner, org.id, role.body.id),
      ]);
      const [row] = await t.sql<{ role_id: string }>(`SELECT role_id FROM memberships WHERE org_id = $1 AND user_id = $2`, [org.id, m.id]);
      if (remove.status === 204) {
        expect(row.role_id).toBe(BuiltInRole.Viewer.id);
        expectProblem(assign, 400, 'invalid_role');
      } else {
        expectProblem(remove, 409, 'role_in_use');
        expect(assign.status).toBe(200);
        expect(row.role_id).toBe(role.body.id);
      }
    }
  });

  describe('grant rules for roles', () => {
    let admin: GivenUser;
    beforeAll(async () => {
      admin = await givenMember(t, org, 'Admin');
    });

    it('an Admin cannot create a role holding a permission they lack (org.delete): 403', async () => {
      expectProblem(await create(admin, org.id, { name: 'Deleter', permissions: ['org.read', 'org.delete'] }), 403, 'permission_denied');
      await create(admin, org.id, { name: 'Admin-made', permissions: ['org.read', 'user.read'] }).expect(201);
    });

    it('an Admin cannot edit or delete a custom role that holds what they lack, nor add it', async () => {
      const strong = await create(owner, org.id, { name: 'Strong', permissions: ['org.read', 'org.delete'] }).expect(201);
      expectProblem(await update(admin, org.id, strong.body.id, { permissions: ['org.read'] }), 403, 'permission_denied');
      expectProblem(await update(admin, org.id, strong.body.id, { name: 'Weak' }), 403, 'permission_denied');
      expectProblem(await del(admin, org.id, strong.body.id), 403, 'permission_denied');
      const weak = await create(admin, org.id, { name: 'Weak', permissions: ['org.read'] }).expect(201);
      expectProblem(await update(admin, org.id, weak.body.id, { permissions: ['org.read', 'org.delete'] }), 403, 'permission_denied');
      await update(admin, org.id, weak.body.id, { permissions: ['org.read', 'audit.read'] }).expect(200);
      await del(admin, org.id, weak.body.id).expect(204);
    });

    it('Members and Viewers cannot manage roles (403)', async () => {
      const member = await givenMember(t, org, 'Member');
      expectProblem(await create(member, org.id, { name: 'Nope', permissions: [] }), 403, 'permission_denied');
    });
  });

  it('a custom role of another org is not reachable through this org (404 not_found), and is left unchanged', async () => {
    const stranger = await givenUser(t);
    const foreignOrg = await givenOrg(t, stranger);
    const foreign = await create(stranger, foreignOrg.id, { name: 'Foreign', permissions: ['org.read'] }).expect(201);
    expectProblem(await update(owner, org.id, foreign.body.id, { name: 'Hijacked' }), 404, 'not_found');
    expectProblem(await del(owner, org.id, foreign.body.id), 404, 'not_found');
    const [row] = await t.sql<{ name: string }>(`SELECT name FROM roles WHERE id = $1`, [foreign.body.id]);
    expect(row.name).toBe('Foreign');
    // and the owner of `org` cannot reach the foreign org at all
    expectProblem(await del(owner, foreignOrg.id, foreign.body.id), 404, 'org_not_found');
  });
});
