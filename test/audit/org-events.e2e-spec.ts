import { AuditService } from '@saasready/audit';
import { BuiltInRole } from '@saasready/rbac';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

/** Booting an app (the embedded database, migrations) on busy shared cores can take a while. */
const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';
const UA = 'audit-org-e2e/1.0';
const LOOPBACK = /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/;
const OWNER = BuiltInRole.Owner.id;
const ADMIN = BuiltInRole.Admin.id;
const MEMBER = BuiltInRole.Member.id;

interface Row {
  id: string;
  org_id: string | null;
  actor_id: string | null;
  user_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  metadata: Record<string, any>;
}

type Auth = { auth: { Authorization: string } };

/**
 * The tenancy routes write their audit events (API.md "Audit log"): each change exactly one row, with
 * actor, org, target and metadata (no secrets), in the change's transaction; a refused or no-op request
 * writes none.
 */
describe('audit: organization, member and role events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  }, BOOT_TIMEOUT);

  /** The rows of an org's chain (optionally one action), oldest first. */
  const rowsOf = (orgId: string, action?: string) =>
    t.sql<Row>(
      `SELECT id, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata
         FROM audit_logs WHERE org_id = $1 AND ($2::text IS NULL OR action = $2) ORDER BY seq`,
      [orgId, action ?? null],
    );
  const countOf = async (orgId: string) => (await rowsOf(orgId)).length;

  const patchOrg = (actor: Auth, orgId: string, body: Record<string, unknown>) =>
    t.http().patch(`${API}/orgs/${orgId}`).set(actor.auth).set('User-Agent', UA).send(body);
  const setRole = (actor: Auth, orgId: string, userId: string, roleId: string) =>
    t.http().patch(`${API}/orgs/${orgId}/members/${userId}`).set(actor.auth).set('User-Agent', UA).send({ role_id: roleId });
  const removeMember = (actor: Auth, orgId: string, userId: string) =>
    t.http().delete(`${API}/orgs/${orgId}/members/${userId}`).set(actor.auth).set('User-Agent', UA);
  const createRole = (actor: Auth, orgId: string, body: Record<string, unknown>) =>
    t.http().post(`${API}/orgs/${orgId}/roles`).set(actor.auth).set('User-Agent', UA).send(body);
  const updateRole = (actor: Auth, orgId: string, roleId: string, body: Record<string, unknown>) =>
    t.http().patch(`${API}/orgs/${orgId}/roles/${roleId}`).set(actor.auth).set('User-Agent', UA).send(body);
  const deleteRole = (actor: Auth, orgId: string, roleId: string) =>
    t.http().delete(`${API}/orgs/${orgId}/roles/${roleId}`).set(actor.auth).set('User-Agent', UA);

  /** The fields every row of a signed-in caller carries. */
  function expectAttributed(row: Row, actor: GivenUser, orgId: string): void {
    expect(row).toMatchObject({ actor_id: actor.id, user_email: actor.email, org_id: orgId, user_agent: UA });
    expect(row.ip_address).toMatch(LOOPBACK);
  }

  describe('organizations', () => {
    it('POST /orgs writes one org.created row in the new org (its first), targeting it', async () => {
      const owner = await givenUser(t);
      const personalBefore = await countOf(owner.orgId);
      const res = await t
        .http()
        .post(`${API}/orgs`)
        .set(owner.auth)
        .set('User-Agent', UA)
        .send({ name: 'Acme Audit', slug: 'acme-audit', metadata: { api_token: 'sk_live_must_not_leak' } })
        .expect(201);
      const rows = await rowsOf(res.body.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'org.created', target_type: 'org', target_id: res.body.id });
      expectAttributed(rows[0], owner, res.body.id);
      expect(rows[0].metadata).toEqual({ name: 'Acme Audit', slug: 'acme-audit' });
      expect(JSON.stringify(rows[0])).not.toContain('sk_live_must_not_leak');
      // the caller's session org is not where it goes
      expect(await countOf(owner.orgId)).toBe(personalBefore);
      // the new chain verifies
      const verify = await t.http().get(`${API}/orgs/${res.body.id}/audit-logs/verify`).set(owner.auth).expect(200);
      expect(verify.body).toEqual({ valid: true, checked: 1, first_invalid_id: null });
    });

    it('a refused POST /orgs (409 slug_taken) writes no row', async () => {
      const owner = await givenUser(t);
      const taken = await givenOrg(t, owner, { slug: `taken-${owner.id.slice(-8)}` });
      const [{ n: before }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'org.created'`);
      expectProblem(await t.http().post(`${API}/orgs`).set(owner.auth).send({ name: 'Dup', slug: taken.slug }), 409, 'slug_taken');
      const [{ n: after }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'org.created'`);
      expect(after).toBe(before);
    });

    it('PATCH /orgs/{id} writes one org.updated row naming the fields changed (no metadata values); a no-op writes none', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner, { name: 'Before', metadata: { a: 1 } });
      const secret = 'whsec_must_not_leak_123';
      await patchOrg(owner, org.id, { name: 'After', metadata: { webhook_secret: secret, plain: secret } }).expect(200);
      const rows = await rowsOf(org.id, 'org.updated');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ target_type: 'org', target_id: org.id });
      expectAttributed(rows[0], owner, org.id);
      expect(rows[0].metadata).toEqual({ fields: ['name', 'metadata'], name: { old: 'Before', new: 'After' } });
      expect(JSON.stringify(rows[0])).not.toContain(secret);

      // The same values again (metadata keys in another order): nothing changes, nothing is recorded.
      await patchOrg(owner, org.id, { name: 'After', metadata: { plain: secret, webhook_secret: secret } }).expect(200);
      await patchOrg(owner, org.id, {}).expect(200);
      expect(await rowsOf(org.id, 'org.updated')).toHaveLength(1);

      await patchOrg(owner, org.id, { slug: `new-${org.id.slice(-8)}` }).expect(200);
      const [, slugRow] = await rowsOf(org.id, 'org.updated');
      expect(slugRow.metadata).toEqual({ fields: ['slug'], slug: { old: org.slug, new: `new-${org.id.slice(-8)}` } });
    });

    it('a refused PATCH (403 permission_denied, 409 slug_taken) writes no row', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const other = await givenOrg(t, owner);
      const viewer = await givenMember(t, org, 'Viewer');
      const before = await countOf(org.id);
      expectProblem(await patchOrg(viewer, org.id, { name: 'Hijacked' }), 403, 'permission_denied');
      expectProblem(await patchOrg(owner, org.id, { name: 'Renamed', slug: other.slug }), 409, 'slug_taken');
      expect(await countOf(org.id)).toBe(before);
      const [stored] = await t.sql<{ name: string }>(`SELECT name FROM organizations WHERE id = $1`, [org.id]);
      expect(stored.name).toBe(org.name); // the name change rolled back with the refused slug
    });

    it('DELETE /orgs/{id} writes one org.deleted row that outlives the org; a refused one writes none', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner, { name: 'Doomed Inc' });
      const admin = await givenMember(t, org, 'Admin');
      expectProblem(await t.http().delete(`${API}/orgs/${org.id}`).set(admin.auth), 403, 'permission_denied');
      expect(await rowsOf(org.id, 'org.deleted')).toHaveLength(0);

      await t.http().delete(`${API}/orgs/${org.id}`).set(owner.auth).set('User-Agent', UA).expect(204);
      expect(await t.sql(`SELECT 1 FROM organizations WHERE id = $1`, [org.id])).toHaveLength(0);
      const rows = await rowsOf(org.id, 'org.deleted');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ target_type: 'org', target_id: org.id });
      expectAttributed(rows[0], owner, org.id);
      expect(rows[0].metadata).toEqual({ name: 'Doomed Inc', slug: org.slug });
      // the org's whole log stays, and still verifies
      expect((await rowsOf(org.id)).map((r) => r.action)).toEqual(['org.created', 'org.deleted']);
      expect(await t.app.get(AuditService).verify(org.id)).toEqual({ valid: true, checked: 2, firstInvalidId: null });
      // the deleter still finds it among their security events
      const events = await t.http().get(`${API}/auth/security-events`).set(owner.auth).expect(200);
      expect(events.body.data.filter((r: Row) => r.action === 'org.deleted').map((r: Row) => r.target_id)).toEqual([org.id]);
    });
  });

  describe('members', () => {
    it('PATCH member writes one member.role_changed row with the old and new role; the same role again writes none', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Member');
      await setRole(owner, org.id, m.id, ADMIN).expect(200);
      const rows = await rowsOf(org.id, 'member.role_changed');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ target_type: 'member', target_id: m.id });
      expectAttributed(rows[0], owner, org.id);
      expect(rows[0].metadata).toEqual({ old_role_id: MEMBER, old_role_name: 'Member', new_role_id: ADMIN, new_role_name: 'Admin' });

      await setRole(owner, org.id, m.id, ADMIN).expect(200); // already Admin: no change
      expect(await rowsOf(org.id, 'member.role_changed')).toHaveLength(1);
    });

    it('a refused role change (409 last_owner, 403 permission_denied, 400 invalid_role) writes no row', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const admin = await givenMember(t, org, 'Admin');
      const before = await countOf(org.id);
      expectProblem(await setRole(owner, org.id, owner.id, MEMBER), 409, 'last_owner');
      expectProblem(await setRole(admin, org.id, owner.id, MEMBER), 403, 'permission_denied');
      expectProblem(await setRole(admin, org.id, admin.id, OWNER), 403, 'permission_denied');
      expectProblem(await setRole(owner, org.id, admin.id, '01900000-0000-7000-8000-0000000000ff'), 400, 'invalid_role');
      expect(await countOf(org.id)).toBe(before);
    });

    it('DELETE member writes member.removed (another member) or member.left (oneself), with the role held', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const removed = await givenMember(t, org, 'Viewer');
      const leaver = await givenMember(t, org, 'Member');

      await removeMember(owner, org.id, removed.id).expect(204);
      await removeMember(leaver, org.id, leaver.id).expect(204);

      const rows = (await rowsOf(org.id)).filter((r) => r.action.startsWith('member.'));
      expect(rows.map((r) => r.action)).toEqual(['member.removed', 'member.left']);
      expect(rows[0]).toMatchObject({ target_type: 'member', target_id: removed.id });
      expectAttributed(rows[0], owner, org.id);
      expect(rows[0].metadata).toEqual({ role_id: BuiltInRole.Viewer.id, role_name: 'Viewer' });
      expect(rows[1]).toMatchObject({ target_type: 'member', target_id: leaver.id });
      expectAttributed(rows[1], leaver, org.id);
      expect(rows[1].metadata).toEqual({ role_id: MEMBER, role_name: 'Member' });
      // the removed member sees it in their security events (target_type member, their id)
      const events = await t.http().get(`${API}/auth/security-events`).set(removed.auth).expect(200);
      expect(events.body.data.map((r: Row) => r.action)).toContain('member.removed');
    });

    it('a refused removal or leave (409 last_owner, 403 permission_denied) writes no row', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const member = await givenMember(t, org, 'Member');
      const viewer = await givenMember(t, org, 'Viewer');
      const before = await countOf(org.id);
      expectProblem(await removeMember(owner, org.id, owner.id), 409, 'last_owner');
      expectProblem(await removeMember(member, org.id, viewer.id), 403, 'permission_denied');
      expect(await countOf(org.id)).toBe(before);
    });

    it('the change and its row commit together: a failed audit write rolls the role change back', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const m = await givenMember(t, org, 'Member');
      await t.sql(`ALTER TABLE audit_logs ADD CONSTRAINT audit_org_e2e_refuse CHECK (action <> 'member.role_changed') NOT VALID`);
      try {
        expectProblem(await setRole(owner, org.id, m.id, ADMIN), 500, 'internal_error');
      } finally {
        await t.sql(`ALTER TABLE audit_logs DROP CONSTRAINT audit_org_e2e_refuse`);
      }
      const [row] = await t.sql<{ role_id: string }>(`SELECT role_id FROM memberships WHERE org_id = $1 AND user_id = $2`, [org.id, m.id]);
      expect(row.role_id).toBe(MEMBER);
      expect(await rowsOf(org.id, 'member.role_changed')).toHaveLength(0);
    });
  });

  describe('roles', () => {
    it('create, update, delete write role.created, role.updated, role.deleted with name and permissions', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const created = await createRole(owner, org.id, { name: 'Auditor', permissions: ['audit.read', 'org.read'] }).expect(201);
      const roleId = created.body.id;

      await updateRole(owner, org.id, roleId, { name: 'Log reader', permissions: ['org.read', 'audit.read', 'user.read'] }).expect(200);
      // nothing changes: no row
      await updateRole(owner, org.id, roleId, { name: 'Log reader', permissions: ['user.read', 'audit.read', 'org.read'] }).expect(200);
      await updateRole(owner, org.id, roleId, { description: 'Reads the audit log' }).expect(200);
      await deleteRole(owner, org.id, roleId).expect(204);

      const rows = (await rowsOf(org.id)).filter((r) => r.action.startsWith('role.'));
      expect(rows.map((r) => r.action)).toEqual(['role.created', 'role.updated', 'role.updated', 'role.deleted']);
      for (const r of rows) {
        expect(r).toMatchObject({ target_type: 'role', target_id: roleId });
        expectAttributed(r, owner, org.id);
      }
      expect(rows[0].metadata).toEqual({ name: 'Auditor', permissions: ['org.read', 'audit.read'] });
      expect(rows[1].metadata).toEqual({
        fields: ['name', 'permissions'],
        name: 'Log reader',
        permissions: ['org.read', 'user.read', 'audit.read'],
        old_name: 'Auditor',
        old_permissions: ['org.read', 'audit.read'],
      });
      expect(rows[2].metadata).toEqual({
        fields: ['description'],
        name: 'Log reader',
        permissions: ['org.read', 'user.read', 'audit.read'],
      });
      expect(rows[3].metadata).toEqual({ name: 'Log reader', permissions: ['org.read', 'user.read', 'audit.read'] });
    });

    it('refused role changes (403, 409 role_name_taken, builtin_role, role_in_use) write no row', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const admin = await givenMember(t, org, 'Admin');
      const held = await createRole(owner, org.id, { name: 'Held', permissions: ['org.read'] }).expect(201);
      await givenMember(t, org, held.body.id);
      const before = await countOf(org.id);
      expectProblem(await createRole(admin, org.id, { name: 'Deleter', permissions: ['org.delete'] }), 403, 'permission_denied');
      expectProblem(await createRole(owner, org.id, { name: 'held', permissions: [] }), 409, 'role_name_taken');
      expectProblem(await updateRole(owner, org.id, ADMIN, { name: 'Boss' }), 409, 'builtin_role');
      expectProblem(await deleteRole(owner, org.id, MEMBER), 409, 'builtin_role');
      expectProblem(await deleteRole(owner, org.id, held.body.id), 409, 'role_in_use');
      expect(await countOf(org.id)).toBe(before);
    });
  });
});
