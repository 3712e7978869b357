import { BuiltInRole } from '@saasready/rbac';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

const API = '/api/v1';

/**
 * Ids of org B sent through org A's path find nothing, even for a caller who is Owner of both (the
 * guard passes in A; only the services' org scoping stops it).
 */
describe('IDOR: one org’s objects through another org’s path', () => {
  let t: TestApp;
  let both: GivenUser; // Owner of A and of B
  let onlyB: GivenUser; // a Member of B only
  let inA: GivenUser; // a Viewer of A
  let a: { id: string };
  let b: { id: string };
  let roleB: string;
  let snapshotB: unknown[];
  beforeAll(async () => {
    t = await createTestApp();
    both = await givenUser(t);
    a = await givenOrg(t, both);
    b = await givenOrg(t, both);
    onlyB = await givenMember(t, b, 'Member');
    inA = await givenMember(t, a, 'Viewer');
    roleB = (
      await t
        .http()
        .post(`${API}/orgs/${b.id}/roles`)
        .set(both.auth)
        .send({ name: 'B only', permissions: ['org.read'] })
        .expect(201)
    ).body.id;
    snapshotB = await rowsOfB();
  });
  afterAll(async () => {
    await t.close();
  });

  const rowsOfB = () =>
    t.sql(
      `SELECT 'm' AS k, user_id::text AS id, role_id::text AS v FROM memberships WHERE org_id = $1
       UNION ALL SELECT 'r', id::text, name || ':' || array_to_string(permissions, ',') FROM roles WHERE org_id = $1
       UNION ALL SELECT 'o', id::text, name || ':' || slug FROM organizations WHERE id = $1
       ORDER BY 1, 2`,
      [b.id],
    );

  it('a member of B is not a member of A: PATCH and DELETE through A are 404 not_found', async () => {
    expectProblem(
      await t.http().patch(`${API}/orgs/${a.id}/members/${onlyB.id}`).set(both.auth).send({ role_id: BuiltInRole.Viewer.id }),
      404,
      'not_found',
    );
    expectProblem(await t.http().delete(`${API}/orgs/${a.id}/members/${onlyB.id}`).set(both.auth), 404, 'not_found');
  });

  it('a custom role of B cannot be assigned in A (400 invalid_role), edited or deleted through A (404)', async () => {
    expectProblem(
      await t.http().patch(`${API}/orgs/${a.id}/members/${inA.id}`).set(both.auth).send({ role_id: roleB }),
      400,
      'invalid_role',
    );
    expectProblem(await t.http().patch(`${API}/orgs/${a.id}/roles/${roleB}`).set(both.auth).send({ name: 'x' }), 404, 'not_found');
    expectProblem(await t.http().delete(`${API}/orgs/${a.id}/roles/${roleB}`).set(both.auth), 404, 'not_found');
  });

  it("A's lists show only A's members and roles", async () => {
    const members = await t.http().get(`${API}/orgs/${a.id}/members`).set(both.auth).expect(200);
    expect(members.body.data.map((m: { user_id: string }) => m.user_id).sort()).toEqual([both.id, inA.id].sort());
    const roles = await t.http().get(`${API}/orgs/${a.id}/roles`).set(both.auth).expect(200);
    expect(roles.body.data.map((r: { id: string }) => r.id)).not.toContain(roleB);
  });

  it('a member of A only reaches nothing of B: every route is 404 org_not_found', async () => {
    const calls = [
      t.http().get(`${API}/orgs/${b.id}`),
      t.http().patch(`${API}/orgs/${b.id}`).send({ name: 'x' }),
      t.http().delete(`${API}/orgs/${b.id}`),
      t.http().get(`${API}/orgs/${b.id}/members`),
      t.http().patch(`${API}/orgs/${b.id}/members/${onlyB.id}`).send({ role_id: BuiltInRole.Viewer.id }),
      t.http().delete(`${API}/orgs/${b.id}/members/${onlyB.id}`),
      t.http().delete(`${API}/orgs/${b.id}/members/${inA.id}`), // "leaving" an org one is not in
      t.http().get(`${API}/orgs/${b.id}/roles`),
      t.http().post(`${API}/orgs/${b.id}/roles`).send({ name: 'x', permissions: [] }),
      t.http().patch(`${API}/orgs/${b.id}/roles/${roleB}`).send({ name: 'x' }),
      t.http().delete(`${API}/orgs/${b.id}/roles/${roleB}`),
    ];
    for (const call of calls) expectProblem(await call.set(inA.auth), 404, 'org_not_found');
    expect((await t.http().get(`${API}/orgs`).set(inA.auth).expect(200)).body.data.map((o: { id: string }) => o.id)).not.toContain(b.id);
  });

  it('B is unchanged by all of the above', async () => {
    expect(await rowsOfB()).toEqual(snapshotB);
  });
});
