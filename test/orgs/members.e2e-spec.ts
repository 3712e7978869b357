import { SessionService } from '@saasready/auth';
import { SESSION_INVALIDATION_TOPIC } from '@saasready/core';
import { BuiltInRole } from '@saasready/rbac';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, expectProblem, givenMember, givenOrg, givenUser, GivenUser, login } from '../support/factories';

const API = '/api/v1';
const OWNER = BuiltInRole.Owner.id;
const ADMIN = BuiltInRole.Admin.id;
const MEMBER = BuiltInRole.Member.id;
const VIEWER = BuiltInRole.Viewer.id;

describe('members: list, change role, remove, leave; grant and last-owner rules', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const setRole = (actor: { auth: { Authorization: string } }, orgId: string, userId: string, roleId: string) =>
    t.http().patch(`${API}/orgs/${orgId}/members/${userId}`).set(actor.auth).send({ role_id: roleId });
  const remove = (actor: { auth: { Authorization: string } }, orgId: string, userId: string) =>
    t.http().delete(`${API}/orgs/${orgId}/members/${userId}`).set(actor.auth);
  const ownerCount = async (orgId: string) =>
    Number((await t.sql<{ n: string }>(`SELECT count(*) AS n FROM memberships WHERE org_id = $1 AND role_id = $2`, [orgId, OWNER]))[0].n);
  const roleOf = async (orgId: string, userId: string) =>
    (await t.sql<{ role_id: string }>(`SELECT role_id FROM memberships WHERE org_id = $1 AND user_id = $2`, [orgId, userId]))[0]?.role_id ??
    null;

  describe('GET /orgs/{org_id}/members', () => {
    it('lists members with their role, in join order, paged', async () => {
      const owner = await givenUser(t, { fullName: 'Olga Owner' });
      const org = await givenOrg(t, owner);
      const added = [];
      for (const role of ['Admin', 'Member', 'Viewer'] as const) added.push(await givenMember(t, org, role));
      const res = await t.http().get(`${API}/orgs/${org.id}/members`).set(owner.auth).expect(200);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data).toHaveLength(4);
      expect(res.body.data[0]).toEqual({
        user_id: owner.id,
        email: owner.email,
        full_name: 'Olga Owner',
        role_id: OWNER,
        role_name: 'Owner',
        joined_at: expect.stringMatching(/Z$/),
      });
      expect(res.body.data.slice(1).map((m: { user_id: string; role_name: string }) => [m.user_id, m.role_name])).toEqual([
        [added[0].id, 'Admin'],
        [added[1].id, 'Member'],
        [added[2].id, 'Viewer'],
      ]);
      // pages of 3 then 1
      const p1 = await t.http().get(`${API}/orgs/${org.id}/members?limit=3`).set(added[1].auth).expect(200);
      expect(p1.body.data).toHaveLength(3);
      const p2 = await t
        .http()
        .get(`${API}/orgs/${org.id}/members?limit=3&cursor=${encodeURIComponent(p1.body.next_cursor)}`)
        .set(added[1].auth)
        .expect(200);
      expect(p2.body).toEqual({ data: [expect.objectContaining({ user_id: added[2].id })], next_cursor: null });
      expectProblem(await t.http().get(`${API}/orgs/${org.id}/members?limit=201`).set(owner.auth), 400, 'validation_failed');
      expectProblem(await t.http().get(`${API}/orgs/${org.id}/members?cursor=nope`).set(owner.auth), 400, 'validation_failed');
    });
  });

  describe('PATCH /orgs/{org_id}/members/{user_id}', () => {
    it('an Owner changes a role; the answer is the member object', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Viewer');
      const res = await setRole(owner, org.id, m.id, ADMIN).expect(200);
      expect(res.body).toMatchObject({ user_id: m.id, email: m.email, role_id: ADMIN, role_name: 'Admin' });
      expect(await roleOf(org.id, m.id)).toBe(ADMIN);
    });

    it('refuses bad input: malformed user id or role id, missing role_id, unknown fields (400)', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Viewer');
      expectProblem(await setRole(owner, org.id, 'nope', ADMIN), 400, 'validation_failed');
      expectProblem(await setRole(owner, org.id, m.id, 'nope'), 400, 'validation_failed');
      expectProblem(await t.http().patch(`${API}/orgs/${org.id}/members/${m.id}`).set(owner.auth).send({}), 400, 'validation_failed');
      expectProblem(
        await t.http().patch(`${API}/orgs/${org.id}/members/${m.id}`).set(owner.auth).send({ role_id: ADMIN, org_id: org.id }),
        400,
        'validation_failed',
      );
      expectProblem(await remove(owner, org.id, 'not-a-uuid'), 400, 'validation_failed');
    });

    it('a role id that is no role, or another org’s custom role, is 400 invalid_role; a non-member is 404 not_found', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Viewer');
      const stranger = await givenUser(t);
      const otherOrg = await givenOrg(t, stranger);
      const foreignRole = await t
        .http()
        .post(`${API}/orgs/${otherOrg.id}/roles`)
        .set(stranger.auth)
        .send({ name: 'Foreign', permissions: ['org.read'] })
        .expect(201);
      expectProblem(await setRole(owner, org.id, m.id, foreignRole.body.id), 400, 'invalid_role');
      expectProblem(await setRole(owner, org.id, m.id, '01900000-0000-7000-8000-0000000000ff'), 400, 'invalid_role');
      expectProblem(await setRole(owner, org.id, stranger.id, VIEWER), 404, 'not_found');
      expectProblem(await remove(owner, org.id, stranger.id), 404, 'not_found');
      expect(await roleOf(org.id, m.id)).toBe(VIEWER);
      expect(await roleOf(otherOrg.id, stranger.id)).toBe(OWNER);
    });
  });

  describe('nobody grants or manages beyond their own permissions', () => {
    let owner: GivenUser;
    let org: { id: string };
    let admin: GivenUser;
    beforeEach(async () => {
      owner = await givenUser(t);
      org = await givenOrg(t, owner);
      admin = await givenMember(t, org, 'Admin');
    });

    it('an Admin cannot make anyone Owner, not even themself (403)', async () => {
      const m = await givenMember(t, org, 'Member');
      expectProblem(await setRole(admin, org.id, m.id, OWNER), 403, 'permission_denied');
      expectProblem(await setRole(admin, org.id, admin.id, OWNER), 403, 'permission_denied');
      expect(await roleOf(org.id, m.id)).toBe(MEMBER);
      expect(await roleOf(org.id, admin.id)).toBe(ADMIN);
    });

    it('an Admin cannot demote or remove an Owner (403), but can manage Admins, Members and Viewers', async () => {
      expectProblem(await setRole(admin, org.id, owner.id, VIEWER), 403, 'permission_denied');
      expectProblem(await remove(admin, org.id, owner.id), 403, 'permission_denied');
      expect(await roleOf(org.id, owner.id)).toBe(OWNER);
      const other = await givenMember(t, org, 'Admin');
      await setRole(admin, org.id, other.id, MEMBER).expect(200);
      await setRole(admin, org.id, other.id, ADMIN).expect(200);
      await remove(admin, org.id, other.id).expect(204);
    });

    it('a custom role with user.manage can hand out only roles within its permissions, and manage only members below it', async () => {
      const managerRole = await t
        .http()
        .post(`${API}/orgs/${org.id}/roles`)
        .set(owner.auth)
        .send({ name: 'People manager', permissions: ['org.read', 'user.read', 'user.manage'] })
        .expect(201);
      const manager = await givenMember(t, org, managerRole.body.id);
      const viewer = await givenMember(t, org, 'Viewer');
      const member = await givenMember(t, org, 'Member');
      expectProblem(await setRole(manager, org.id, viewer.id, ADMIN), 403, 'permission_denied'); // grants what it lacks
      expectProblem(await setRole(manager, org.id, admin.id, VIEWER), 403, 'permission_denied'); // target holds more
      expectProblem(await remove(manager, org.id, admin.id), 403, 'permission_denied');
      await setRole(manager, org.id, viewer.id, MEMBER).expect(200); // Member ⊆ manager
      await setRole(manager, org.id, member.id, managerRole.body.id).expect(200); // its own role
      await remove(manager, org.id, viewer.id).expect(204);
    });

    it('Members and Viewers cannot manage anyone (403), but can leave', async () => {
      const member = await givenMember(t, org, 'Member');
      const viewer = await givenMember(t, org, 'Viewer');
      expectProblem(await setRole(member, org.id, viewer.id, VIEWER), 403, 'permission_denied');
      expectProblem(await remove(viewer, org.id, member.id), 403, 'permission_denied');
      expectProblem(await setRole(viewer, org.id, viewer.id, MEMBER), 403, 'permission_denied'); // no self-promotion
      await remove(viewer, org.id, viewer.id).expect(204);
      await remove(member, org.id, member.id).expect(204);
      expect(await roleOf(org.id, viewer.id)).toBeNull();
      expect(await roleOf(org.id, member.id)).toBeNull();
    });
  });

  describe('an organization keeps at least one Owner', () => {
    it('the last Owner cannot be demoted, removed or leave (409 last_owner); with two, one may go', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      expectProblem(await setRole(owner, org.id, owner.id, ADMIN), 409, 'last_owner');
      expectProblem(await remove(owner, org.id, owner.id), 409, 'last_owner');
      const second = await givenMember(t, org, 'Owner');
      await setRole(owner, org.id, owner.id, ADMIN).expect(200); // two Owners: one may step down
      expectProblem(await setRole(second, org.id, second.id, MEMBER), 409, 'last_owner');
      expectProblem(await remove(second, org.id, second.id), 409, 'last_owner');
      // the demoted one (now Admin) cannot touch the remaining Owner
      expectProblem(await remove(owner, org.id, second.id), 403, 'permission_denied');
      expect(await ownerCount(org.id)).toBe(1);
      // an Owner can remove another Owner while one remains
      await setRole(second, org.id, owner.id, OWNER).expect(200);
      await remove(second, org.id, owner.id).expect(204);
      expect(await ownerCount(org.id)).toBe(1);
    });

    it('two Owners demoting each other at once: exactly one succeeds, one Owner remains', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await givenUser(t);
        const org = await givenOrg(t, a);
        const b = await givenMember(t, org, 'Owner');
        const [ra, rb] = await Promise.all([setRole(a, org.id, b.id, ADMIN), setRole(b, org.id, a.id, ADMIN)]);
        const statuses = [ra.status, rb.status].sort();
        expect(statuses[0]).toBe(200);
        // the loser was demoted first: an Admin cannot touch an Owner (403)
        expect(statuses[1]).toBe(403);
        expect(await ownerCount(org.id)).toBe(1);
      }
    });

    it('two Owners leaving at once: one leaves, the other is the last Owner (409)', async () => {
      const a = await givenUser(t);
      const org = await givenOrg(t, a);
      const b = await givenMember(t, org, 'Owner');
      const [ra, rb] = await Promise.all([remove(a, org.id, a.id), remove(b, org.id, b.id)]);
      expect([ra.status, rb.status].sort()).toEqual([204, 409]);
      expect(await ownerCount(org.id)).toBe(1);
    });

    it('a burst of 20 concurrent role changes among 3 Owners ends with exactly one Owner and consistent rows', async () => {
      for (let round = 0; round < 3; round++) {
        const first = await givenUser(t);
        const org = await givenOrg(t, first);
        const owners = [first, await givenMember(t, org, 'Owner'), await givenMember(t, org, 'Owner')];
        const bystander = await givenMember(t, org, 'Viewer');
        // the 6 ordered pairs of Owners, each Owner demoting another to Member, cycled to 20 requests sent at once
        const pairs = owners.flatMap((actor) => owners.filter((x) => x !== actor).map((target) => ({ actor, target })));
        const requests = Array.from({ length: 20 }, (_, i) => pairs[i % pairs.length]);
        const results = await Promise.all(requests.map(({ actor, target }) => setRole(actor, org.id, target.id, MEMBER)));
        for (const r of results) expect([200, 403, 409]).toContain(r.status);

        expect(await ownerCount(org.id)).toBe(1);
        const rows = await t.sql<{ user_id: string; role_id: string }>(`SELECT user_id, role_id FROM memberships WHERE org_id = $1`, [
          org.id,
        ]);
        expect(rows).toHaveLength(4); // nobody lost or duplicated
        expect(new Set(rows.map((r) => r.user_id)).size).toBe(4);
        const survivor = owners.find((o) => o.id === rows.find((r) => r.role_id === OWNER)!.user_id)!;
        for (const o of owners) if (o !== survivor) expect(await roleOf(org.id, o.id)).toBe(MEMBER);
        expect(await roleOf(org.id, bystander.id)).toBe(VIEWER);
        // every success was made by the survivor or before its actor lost Owner: no demoted actor demoted anyone after
        const successes = results.filter((r) => r.status === 200);
        expect(successes.length).toBeGreaterThanOrEqual(2);
        // the API agrees with the rows, and the survivor still cannot step down
        const byApi = await t.http().get(`${API}/orgs/${org.id}/members`).set(survivor.auth).expect(200);
        expect(byApi.body.data.filter((m: { role_name: string }) => m.role_name === 'Owner')).toEqual([
          expect.objectContaining({ user_id: survivor.id }),
        ]);
        expectProblem(await setRole(survivor, org.id, survivor.id, MEMBER), 409, 'last_owner');
      }
    });
  });

  describe('changes take effect on the next request', () => {
    it('a removed member’s next call is 404, and their session is unscoped (/auth/me current_org_id null)', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Admin');
      const elsewhere = await login(t, m.email); // a second session, scoped to the personal org
      const switched = await t.http().post(`${API}/auth/switch-org`).set(m.auth).send({ org_id: org.id }).expect(200);
      const auth = bearer(switched.body.access_token);
      // warm every cache: session state, membership, role
      await t.http().get(`${API}/orgs/${org.id}`).set(auth).expect(200);
      expect((await t.http().get(`${API}/auth/me`).set(auth).expect(200)).body).toMatchObject({
        current_org_id: org.id,
        current_org_role: 'Admin',
      });

      await remove(owner, org.id, m.id).expect(204);

      expectProblem(await t.http().get(`${API}/orgs/${org.id}`).set(auth), 404, 'org_not_found');
      expectProblem(await t.http().patch(`${API}/orgs/${org.id}`).set(auth).send({ name: 'x' }), 404, 'org_not_found');
      expect((await t.http().get(`${API}/auth/me`).set(auth).expect(200)).body).toMatchObject({
        current_org_id: null,
        current_org_role: null,
        permissions: [],
      });
      const sessions = await t.sql<{ current_org_id: string | null }>(`SELECT current_org_id FROM sessions WHERE user_id = $1`, [m.id]);
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.filter((s) => s.current_org_id === org.id)).toEqual([]);
      // sessions scoped elsewhere (the personal org) keep their scope
      expect((await t.http().get(`${API}/auth/me`).set(elsewhere.auth).expect(200)).body.current_org_id).toBe(m.orgId);
      expect(sessions.filter((s) => s.current_org_id === m.orgId)).toHaveLength(1);
    });

    it('tenancy publishes on the topic SessionService listens to', () => {
      expect(SessionService.TOPIC).toBe(SESSION_INVALIDATION_TOPIC);
    });

    it('the session cache learns of the unscoping: re-added later, the old session stays unscoped', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Member');
      const switched = await t.http().post(`${API}/auth/switch-org`).set(m.auth).send({ org_id: org.id }).expect(200);
      const auth = bearer(switched.body.access_token);
      expect((await t.http().get(`${API}/auth/me`).set(auth).expect(200)).body.current_org_id).toBe(org.id);
      await remove(owner, org.id, m.id).expect(204);
      await givenMember(t, org, 'Member', m); // back in, but the session was unscoped by the removal
      expect((await t.http().get(`${API}/auth/me`).set(auth).expect(200)).body.current_org_id).toBeNull();
    });

    it('a member who leaves is out at once, and their session is unscoped', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Viewer');
      const switched = await t.http().post(`${API}/auth/switch-org`).set(m.auth).send({ org_id: org.id }).expect(200);
      const auth = bearer(switched.body.access_token);
      await t.http().get(`${API}/orgs/${org.id}`).set(auth).expect(200);
      await remove({ auth }, org.id, m.id).expect(204);
      expectProblem(await t.http().get(`${API}/orgs/${org.id}`).set(auth), 404, 'org_not_found');
      expect((await t.http().get(`${API}/auth/me`).set(auth).expect(200)).body.current_org_id).toBeNull();
      expectProblem(await remove({ auth }, org.id, m.id), 404, 'org_not_found'); // leaving twice: not a member any more
    });

    it('a downgraded Admin’s next PATCH is 403; an upgraded Viewer’s next PATCH passes', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const admin = await givenMember(t, org, 'Admin');
      const viewer = await givenMember(t, org, 'Viewer');
      await t.http().patch(`${API}/orgs/${org.id}`).set(admin.auth).send({ name: 'By admin' }).expect(200);
      expectProblem(await t.http().patch(`${API}/orgs/${org.id}`).set(viewer.auth).send({ name: 'By viewer' }), 403, 'permission_denied');

      await setRole(owner, org.id, admin.id, MEMBER).expect(200);
      await setRole(owner, org.id, viewer.id, ADMIN).expect(200);

      expectProblem(await t.http().patch(`${API}/orgs/${org.id}`).set(admin.auth).send({ name: 'Again' }), 403, 'permission_denied');
      await t.http().patch(`${API}/orgs/${org.id}`).set(viewer.auth).send({ name: 'By former viewer' }).expect(200);
      expect((await t.http().get(`${API}/auth/me`).set(admin.auth).expect(200)).body.current_org_id).toBe(admin.orgId);
    });

    it('a change to a custom role reaches its holders on their next request', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const role = await t
        .http()
        .post(`${API}/orgs/${org.id}/roles`)
        .set(owner.auth)
        .send({ name: 'Editor', permissions: ['org.read', 'org.update'] })
        .expect(201);
      const m = await givenMember(t, org, role.body.id);
      await t.http().patch(`${API}/orgs/${org.id}`).set(m.auth).send({ name: 'Edited' }).expect(200);
      await t
        .http()
        .patch(`${API}/orgs/${org.id}/roles/${role.body.id}`)
        .set(owner.auth)
        .send({ permissions: ['org.read'] })
        .expect(200);
      expectProblem(await t.http().patch(`${API}/orgs/${org.id}`).set(m.auth).send({ name: 'Again' }), 403, 'permission_denied');
      await t.http().get(`${API}/orgs/${org.id}`).set(m.auth).expect(200);
    });
  });
});
