import { FlagsService } from '@saasready/flags';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

/** Booting an app (database, migrations) on busy shared cores can take a while. */
const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';
const ADMIN_EMAIL = 'admin@example.test';

interface AuditRow {
  org_id: string | null;
  actor_id: string | null;
  user_email: string | null;
  target_type: string;
  target_id: string;
  metadata: { scope: string; flag_key: string; old: unknown; new: unknown };
}

/** The routes, evaluation, permissions, isolation, the cache and the audit trail of feature flags (API.md "Feature flags"). */
describe('feature flags', () => {
  let t: TestApp;
  let admin: GivenUser; // instance admin (INSTANCE_ADMIN_EMAILS), Owner of a personal org only
  let owner: GivenUser; // Owner of org A and of org B, not an instance admin
  let orgA: { id: string };
  let orgB: { id: string };
  let orgAdmin: GivenUser; // Admin of A
  let member: GivenUser; // Member of A
  let viewer: GivenUser; // Viewer of A
  let outsider: GivenUser; // in neither

  const orgFlag = (orgId: string, key: string) => `${API}/orgs/${orgId}/feature-flags/${key}`;
  const define = (key: string, body: Record<string, unknown>, who: GivenUser = admin) =>
    t.http().put(`${API}/feature-flags/${key}`).set(who.auth).send(body);
  const evaluate = async (orgId: string, key: string, who: GivenUser = owner) =>
    (await t.http().get(orgFlag(orgId, key)).set(who.auth).expect(200)).body as { key: string; enabled: boolean; source: string };
  const flagRows = (key: string) =>
    t.sql<AuditRow>(
      `SELECT org_id, actor_id, user_email, target_type, target_id, metadata FROM audit_logs WHERE action = 'flag.updated' AND target_id = $1 ORDER BY seq`,
      [key],
    );

  beforeAll(async () => {
    t = await createTestApp({ env: { INSTANCE_ADMIN_EMAILS: ADMIN_EMAIL } });
    admin = await givenUser(t, { email: ADMIN_EMAIL });
    owner = await givenUser(t);
    orgA = await givenOrg(t, owner);
    orgB = await givenOrg(t, owner);
    orgAdmin = await givenMember(t, orgA, 'Admin');
    member = await givenMember(t, orgA, 'Member');
    viewer = await givenMember(t, orgA, 'Viewer');
    outsider = await givenUser(t);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  });

  describe('evaluation', () => {
    it('an unknown key is off with source default (not 404)', async () => {
      const res = await t.http().get(orgFlag(orgA.id, 'never.defined')).set(owner.auth).expect(200);
      expect(res.body).toEqual({ key: 'never.defined', enabled: false, source: 'default', updated_at: null });
    });

    it('precedence: an org override beats the rollout, which beats the default', async () => {
      const key = 'precedence';
      await define(key, { default_enabled: false }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'default' });

      await define(key, { default_enabled: true }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'default' });

      // A rollout percentage decides whatever default_enabled says: 0 % is off for every org ...
      await define(key, { default_enabled: true, rollout_percent: 0 }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'rollout' });
      // ... and 100 % on for every org.
      await define(key, { default_enabled: false, rollout_percent: 100 }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'rollout' });

      // The org override wins over the rollout, both ways.
      const off = await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: false }).expect(200);
      expect(off.body).toEqual({ key, enabled: false, source: 'org', updated_at: expect.stringMatching(/Z$/) });
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'org' });
      await define(key, { default_enabled: false, rollout_percent: 0 }).expect(200);
      await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: true }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'org' });

      // Removing the override goes back to the rollout, then (no rollout) to the default.
      await t.http().delete(orgFlag(orgA.id, key)).set(owner.auth).expect(204);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'rollout' });
      await define(key, { default_enabled: true, rollout_percent: null }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'default' });
    });

    it('an override needs no global definition', async () => {
      const res = await t.http().put(orgFlag(orgA.id, 'local.only')).set(owner.auth).send({ enabled: true }).expect(200);
      expect(res.body).toMatchObject({ key: 'local.only', enabled: true, source: 'org' });
      expect(await evaluate(orgA.id, 'local.only')).toMatchObject({ enabled: true, source: 'org' });
      await t.http().get(`${API}/feature-flags`).set(admin.auth).expect(200);
      expect((await t.http().get(`${API}/feature-flags`).set(admin.auth)).body.data.map((d: { key: string }) => d.key)).not.toContain(
        'local.only',
      );
    });

    it('the org list holds every defined flag plus every key overridden in this org, by key, complete', async () => {
      await define('list.a', { default_enabled: true, description: 'A' }).expect(200);
      await define('list.b', { default_enabled: false, rollout_percent: 100 }).expect(200);
      await t.http().put(orgFlag(orgA.id, 'list.override-only')).set(owner.auth).send({ enabled: true }).expect(200);
      await t.http().put(orgFlag(orgA.id, 'list.a')).set(owner.auth).send({ enabled: false }).expect(200);

      const res = await t.http().get(`${API}/orgs/${orgA.id}/feature-flags`).set(viewer.auth).expect(200);
      expect(res.body.next_cursor).toBeNull();
      const keys = res.body.data.map((f: { key: string }) => f.key);
      expect(keys).toEqual([...keys].sort());
      const defined = (await t.http().get(`${API}/feature-flags`).set(admin.auth).expect(200)).body.data.map((d: { key: string }) => d.key);
      expect(keys).toEqual(expect.arrayContaining([...defined, 'list.override-only', 'local.only']));
      const byKey = Object.fromEntries(res.body.data.map((f: { key: string }) => [f.key, f]));
      expect(byKey['list.a']).toEqual({ key: 'list.a', enabled: false, source: 'org', updated_at: expect.stringMatching(/Z$/) });
      expect(byKey['list.b']).toMatchObject({ enabled: true, source: 'rollout' });
      expect(byKey['list.override-only']).toMatchObject({ enabled: true, source: 'org' });
      for (const f of res.body.data) expect(Object.keys(f).sort()).toEqual(['enabled', 'key', 'source', 'updated_at']);
    });

    it('the definition list and PUT /feature-flags answer the stored definition; PUT replaces it whole', async () => {
      const first = await define('defs.replace', { description: 'First', default_enabled: true, rollout_percent: 30 }).expect(200);
      expect(first.body).toEqual({
        key: 'defs.replace',
        description: 'First',
        default_enabled: true,
        rollout_percent: 30,
        created_at: expect.stringMatching(/Z$/),
        updated_at: expect.stringMatching(/Z$/),
      });
      t.clock.advance(1000);
      const second = await define('defs.replace', { default_enabled: false }).expect(200);
      expect(second.body).toMatchObject({
        description: '',
        default_enabled: false,
        rollout_percent: null,
        created_at: first.body.created_at,
      });
      expect(second.body.updated_at > first.body.updated_at).toBe(true);
      const list = await t.http().get(`${API}/feature-flags`).set(admin.auth).expect(200);
      expect(list.body.next_cursor).toBeNull();
      expect(list.body.data.find((d: { key: string }) => d.key === 'defs.replace')).toEqual(second.body);
    });
  });

  describe('validation', () => {
    const badKeys = ['Upper', '-leading-dash', '.leading-dot', '_leading', 'has%20space', 'x'.repeat(65), 'a*b', '%C3%A9t%C3%A9'];

    it.each(badKeys)('a key not matching ^[a-z0-9][a-z0-9_.-]{0,63}$ is 400 validation_failed on every route: %s', async (key) => {
      expectProblem(await t.http().get(orgFlag(orgA.id, key)).set(owner.auth), 400, 'validation_failed');
      expectProblem(await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: true }), 400, 'validation_failed');
      expectProblem(await t.http().delete(orgFlag(orgA.id, key)).set(owner.auth), 400, 'validation_failed');
      const res = await define(key, { default_enabled: true });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'flag_key' })]);
    });

    it('the longest and shortest keys are accepted', async () => {
      const longest = `a${'b_.-9'.repeat(12)}abc`;
      expect(longest).toHaveLength(64);
      await define(longest, { default_enabled: true }).expect(200);
      expect(await evaluate(orgA.id, longest)).toMatchObject({ enabled: true, source: 'default' });
      await t.http().put(orgFlag(orgA.id, '0')).set(owner.auth).send({ enabled: true }).expect(200);
    });

    it.each([
      [{}, 'enabled'],
      [{ enabled: 'true' }, 'enabled'],
      [{ enabled: 1 }, 'enabled'],
      [{ enabled: null }, 'enabled'],
      [{ enabled: true, org_id: '00000000-0000-7000-8000-000000000001' }, 'org_id'],
    ])('an override body %j is 400 validation_failed naming %s', async (body, field) => {
      const res = await t.http().put(orgFlag(orgA.id, 'body.check')).set(owner.auth).send(body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each([
      [{ default_enabled: true, rollout_percent: 101 }, 'rollout_percent'],
      [{ default_enabled: true, rollout_percent: -1 }, 'rollout_percent'],
      [{ default_enabled: true, rollout_percent: 12.5 }, 'rollout_percent'],
      [{ default_enabled: true, rollout_percent: '50' }, 'rollout_percent'],
      [{ rollout_percent: 50 }, 'default_enabled'],
      [{ default_enabled: 'yes' }, 'default_enabled'],
      [{ default_enabled: true, description: 7 }, 'description'],
      [{ default_enabled: true, description: 'x'.repeat(501) }, 'description'],
      [{ default_enabled: true, key: 'other' }, 'key'],
    ])('a definition body %j is 400 validation_failed naming %s', async (body, field) => {
      const res = await define('body.check', body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('rollout_percent accepts 0, 100 and null', async () => {
      for (const rollout_percent of [0, 100, null]) {
        const res = await define('rollout.bounds', { default_enabled: false, rollout_percent }).expect(200);
        expect(res.body.rollout_percent).toBe(rollout_percent);
      }
    });
  });

  describe('permissions', () => {
    it('Owner, Admin, Member and Viewer read (org.read)', async () => {
      for (const who of [owner, orgAdmin, member, viewer]) {
        await t.http().get(`${API}/orgs/${orgA.id}/feature-flags`).set(who.auth).expect(200);
        await t.http().get(orgFlag(orgA.id, 'perm.read')).set(who.auth).expect(200);
      }
    });

    it('only flag.manage writes: Owner and Admin may, Member and Viewer get 403 permission_denied', async () => {
      await t.http().put(orgFlag(orgA.id, 'perm.write')).set(owner.auth).send({ enabled: true }).expect(200);
      await t.http().put(orgFlag(orgA.id, 'perm.write')).set(orgAdmin.auth).send({ enabled: false }).expect(200);
      for (const who of [member, viewer]) {
        expectProblem(await t.http().put(orgFlag(orgA.id, 'perm.write')).set(who.auth).send({ enabled: true }), 403, 'permission_denied');
        expectProblem(await t.http().delete(orgFlag(orgA.id, 'perm.write')).set(who.auth), 403, 'permission_denied');
      }
      expect(await evaluate(orgA.id, 'perm.write')).toMatchObject({ enabled: false, source: 'org' });
      await t.http().delete(orgFlag(orgA.id, 'perm.write')).set(orgAdmin.auth).expect(204);
    });

    it('a non-member gets 404 org_not_found on every org route (no existence leak)', async () => {
      expectProblem(await t.http().get(`${API}/orgs/${orgA.id}/feature-flags`).set(outsider.auth), 404, 'org_not_found');
      expectProblem(await t.http().get(orgFlag(orgA.id, 'perm.read')).set(outsider.auth), 404, 'org_not_found');
      expectProblem(await t.http().put(orgFlag(orgA.id, 'perm.read')).set(outsider.auth).send({ enabled: true }), 404, 'org_not_found');
      expectProblem(await t.http().delete(orgFlag(orgA.id, 'perm.read')).set(outsider.auth), 404, 'org_not_found');
      // the instance admin is no member of A either: being instance admin grants nothing in an org
      expectProblem(await t.http().put(orgFlag(orgA.id, 'perm.read')).set(admin.auth).send({ enabled: true }), 404, 'org_not_found');
    });

    it('only instance admins define or list: an Owner who is not one gets 403 permission_denied', async () => {
      for (const who of [owner, orgAdmin, member, outsider]) {
        expectProblem(await define('perm.global', { default_enabled: true }, who), 403, 'permission_denied');
        expectProblem(await t.http().get(`${API}/feature-flags`).set(who.auth), 403, 'permission_denied');
      }
      expect(await t.sql(`SELECT 1 FROM feature_flags WHERE key = 'perm.global'`)).toEqual([]);
      await define('perm.global', { default_enabled: true }).expect(200);
      await t.http().get(`${API}/feature-flags`).set(admin.auth).expect(200);
    });

    it('without a token every flag route is 401', async () => {
      expectProblem(await t.http().get(`${API}/orgs/${orgA.id}/feature-flags`), 401, 'token_invalid');
      expectProblem(await t.http().get(orgFlag(orgA.id, 'x')), 401, 'token_invalid');
      expectProblem(await t.http().put(orgFlag(orgA.id, 'x')).send({ enabled: true }), 401, 'token_invalid');
      expectProblem(await t.http().delete(orgFlag(orgA.id, 'x')), 401, 'token_invalid');
      expectProblem(await t.http().get(`${API}/feature-flags`), 401, 'token_invalid');
      expectProblem(await t.http().put(`${API}/feature-flags/x`).send({ default_enabled: true }), 401, 'token_invalid');
    });
  });

  describe('isolation between organizations', () => {
    it("an override set in org A is not visible in org B, and B's path cannot remove it", async () => {
      const key = 'isolated';
      await define(key, { default_enabled: false }).expect(200);
      await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: true }).expect(200);
      await t.http().put(orgFlag(orgA.id, 'isolated.local')).set(owner.auth).send({ enabled: true }).expect(200);

      expect(await evaluate(orgB.id, key)).toMatchObject({ enabled: false, source: 'default' });
      expect(await evaluate(orgB.id, 'isolated.local')).toMatchObject({ enabled: false, source: 'default' });
      const listB = (await t.http().get(`${API}/orgs/${orgB.id}/feature-flags`).set(owner.auth).expect(200)).body.data;
      expect(listB.map((f: { key: string }) => f.key)).not.toContain('isolated.local');
      expect(listB.find((f: { key: string }) => f.key === key)).toMatchObject({ enabled: false, source: 'default' });

      // Deleting through B's path (the caller is Owner of both) touches only B.
      await t.http().delete(orgFlag(orgB.id, key)).set(owner.auth).expect(204);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'org' });
      expect(await t.sql(`SELECT org_id FROM org_feature_flags WHERE flag_key = $1`, [key])).toEqual([{ org_id: orgA.id }]);
    });

    it("a member of A cannot read B's flags", async () => {
      expectProblem(await t.http().get(`${API}/orgs/${orgB.id}/feature-flags`).set(member.auth), 404, 'org_not_found');
    });

    it('deleting an organization deletes its overrides', async () => {
      const doomed = await givenOrg(t, owner);
      await t.http().put(orgFlag(doomed.id, 'doomed.flag')).set(owner.auth).send({ enabled: true }).expect(200);
      await t.http().delete(`${API}/orgs/${doomed.id}`).set(owner.auth).expect(204);
      expect(await t.sql(`SELECT 1 FROM org_feature_flags WHERE org_id = $1`, [doomed.id])).toEqual([]);
    });
  });

  describe('the evaluation cache', () => {
    it('evaluation is served from memory: a row changed behind the service is not seen until an invalidation', async () => {
      const key = 'cache.memory';
      await define(key, { default_enabled: false }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false }); // cached now
      await t.sql(`UPDATE feature_flags SET default_enabled = true WHERE key = $1`, [key]);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false });
      await t.app.get(FlagsService).invalidateDefinitions();
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true });
    });

    it('every change through the API is seen by the next evaluation (definition, override set, override removed)', async () => {
      const key = 'cache.change';
      const flags = t.app.get(FlagsService);
      await define(key, { default_enabled: false }).expect(200);
      expect(await flags.isEnabled(orgA.id, key)).toBe(false);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false });

      await define(key, { default_enabled: true }).expect(200);
      expect(await flags.isEnabled(orgA.id, key)).toBe(true);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'default' });

      await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: false }).expect(200);
      expect(await flags.isEnabled(orgA.id, key)).toBe(false);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'org' });

      await t.http().delete(orgFlag(orgA.id, key)).set(owner.auth).expect(204);
      expect(await flags.isEnabled(orgA.id, key)).toBe(true);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'default' });
    });

    it('a refused or failed change leaves the cache and the database as they were', async () => {
      const key = 'cache.refused';
      await define(key, { default_enabled: true }).expect(200);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true });
      expectProblem(await t.http().put(orgFlag(orgA.id, key)).set(member.auth).send({ enabled: false }), 403, 'permission_denied');
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: true, source: 'default' });
      expect(await t.sql(`SELECT 1 FROM org_feature_flags WHERE flag_key = $1`, [key])).toEqual([]);
    });
  });

  describe('audit: flag.updated', () => {
    it('an org override set, changed and removed writes one row each, in the org, with old and new values', async () => {
      const key = 'audited.org';
      await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: true }).expect(200);
      await t.http().put(orgFlag(orgA.id, key)).set(orgAdmin.auth).send({ enabled: false }).expect(200);
      await t.http().delete(orgFlag(orgA.id, key)).set(owner.auth).expect(204);
      // Removing what is not there is a 204 and no event.
      await t.http().delete(orgFlag(orgA.id, key)).set(owner.auth).expect(204);
      // A refused write is no event either.
      expectProblem(await t.http().put(orgFlag(orgA.id, key)).set(member.auth).send({ enabled: true }), 403, 'permission_denied');

      const rows = await flagRows(key);
      const common = { org_id: orgA.id, target_type: 'flag', target_id: key };
      expect(rows).toEqual([
        {
          ...common,
          actor_id: owner.id,
          user_email: owner.email,
          metadata: { scope: 'org', flag_key: key, old: null, new: { enabled: true } },
        },
        {
          ...common,
          actor_id: orgAdmin.id,
          user_email: orgAdmin.email,
          metadata: { scope: 'org', flag_key: key, old: { enabled: true }, new: { enabled: false } },
        },
        {
          ...common,
          actor_id: owner.id,
          user_email: owner.email,
          metadata: { scope: 'org', flag_key: key, old: { enabled: false }, new: null },
        },
      ]);

      // The org's own audit log shows them (audit.read).
      const log = await t.http().get(`${API}/orgs/${orgA.id}/audit-logs?action=flag.updated`).set(owner.auth).expect(200);
      expect(log.body.data.filter((r: { target_id: string }) => r.target_id === key)).toHaveLength(3);
    });

    it('a global definition put writes a row with no org, with the old and new definition', async () => {
      const key = 'audited.global';
      await define(key, { description: 'Beta', default_enabled: false, rollout_percent: 10 }).expect(200);
      await define(key, { default_enabled: true }).expect(200);
      expectProblem(await define(key, { default_enabled: false }, owner), 403, 'permission_denied');

      const rows = await flagRows(key);
      const common = { org_id: null, actor_id: admin.id, user_email: ADMIN_EMAIL, target_type: 'flag', target_id: key };
      expect(rows).toEqual([
        {
          ...common,
          metadata: {
            scope: 'global',
            flag_key: key,
            old: null,
            new: { description: 'Beta', default_enabled: false, rollout_percent: 10 },
          },
        },
        {
          ...common,
          metadata: {
            scope: 'global',
            flag_key: key,
            old: { description: 'Beta', default_enabled: false, rollout_percent: 10 },
            new: { description: '', default_enabled: true, rollout_percent: null },
          },
        },
      ]);
    });

    it('the change and its row commit together: a write whose audit row fails leaves no change', async () => {
      // Make the audit insert fail inside the flag write's transaction (a check only this key trips).
      const key = 'audited.rollback';
      await t.sql(`ALTER TABLE audit_logs ADD CONSTRAINT flags_test_no_row CHECK (target_id IS DISTINCT FROM '${key}') NOT VALID`);
      try {
        const res = await t.http().put(orgFlag(orgA.id, key)).set(owner.auth).send({ enabled: true });
        expect(res.status).toBe(500);
        const def = await define(key, { default_enabled: true });
        expect(def.status).toBe(500);
      } finally {
        await t.sql(`ALTER TABLE audit_logs DROP CONSTRAINT flags_test_no_row`);
      }
      expect(await t.sql(`SELECT 1 FROM org_feature_flags WHERE flag_key = $1`, [key])).toEqual([]);
      expect(await t.sql(`SELECT 1 FROM feature_flags WHERE key = $1`, [key])).toEqual([]);
      expect(await evaluate(orgA.id, key)).toMatchObject({ enabled: false, source: 'default' });
    });
  });
});
