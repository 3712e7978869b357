import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

const API = '/api/v1';

describe('organizations: create, read, update, delete, list', () => {
  let t: TestApp;
  let alice: GivenUser;
  beforeAll(async () => {
    t = await createTestApp();
    alice = await givenUser(t, { fullName: 'Alice Example' });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('POST /orgs', () => {
    it('creates the org with the caller as Owner, in one go, and leaves the session scope alone', async () => {
      const res = await t
        .http()
        .post(`${API}/orgs`)
        .set(alice.auth)
        .send({
          name: '  Acme Corp ',
          slug: 'acme-corp',
          metadata: { plan: 'pro', seats: 5, tags: ['a', 'b'], nested: { ok: true, n: null } },
        })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Acme Corp',
        slug: 'acme-corp',
        metadata: { plan: 'pro', seats: 5, tags: ['a', 'b'], nested: { ok: true, n: null } },
        created_at: expect.stringMatching(/Z$/),
        updated_at: expect.stringMatching(/Z$/),
        your_role: 'Owner',
      });
      const rows = await t.sql(`SELECT user_id, role_id FROM memberships WHERE org_id = $1`, [res.body.id]);
      expect(rows).toEqual([{ user_id: alice.id, role_id: '00000000-0000-7000-8000-000000000001' }]);
      const me = await t.http().get(`${API}/auth/me`).set(alice.auth).expect(200);
      expect(me.body.current_org_id).toBe(alice.orgId);
    });

    it('derives a unique slug from the name when none is given; metadata defaults to {}', async () => {
      const a = await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'Zebra Labs' }).expect(201);
      const b = await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'Zebra Labs' }).expect(201);
      expect(a.body.slug).toBe('zebra-labs');
      expect(b.body.slug).toBe('zebra-labs-2');
      expect(a.body.metadata).toEqual({});
    });

    it('refuses a taken slug with 409 slug_taken', async () => {
      await givenOrg(t, alice, { slug: 'taken-slug' });
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', slug: 'taken-slug' }), 409, 'slug_taken');
    });

    it.each([
      ['too short', 'ab'],
      ['upper case', 'Acme'],
      ['leading dash', '-acme'],
      ['trailing dash', 'acme-'],
      ['underscore', 'ac_me'],
      ['space', 'ac me'],
      ['65 characters', 'a'.repeat(65)],
      ['not a string', 123],
    ])('refuses a bad slug (%s) with 400', async (_label, slug) => {
      const res = await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', slug });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'slug' })]));
    });

    it('accepts the slug bounds: 3 and 64 characters', async () => {
      await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', slug: 'a1b' }).expect(201);
      await t
        .http()
        .post(`${API}/orgs`)
        .set(alice.auth)
        .send({ name: 'X', slug: `a${'-'.repeat(62)}b` })
        .expect(201);
    });

    it('refuses a blank or missing name, unknown fields and mass assignment', async () => {
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: '   ' }), 400, 'validation_failed');
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({}), 400, 'validation_failed');
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', id: alice.orgId }), 400, 'validation_failed');
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', your_role: 'Owner' }), 400, 'validation_failed');
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'X', owner_id: alice.id }), 400, 'validation_failed');
    });

    it('needs a token', async () => {
      expectProblem(await t.http().post(`${API}/orgs`).send({ name: 'X' }), 401, 'token_invalid');
    });
  });

  describe('metadata', () => {
    // {"k":"<n chars>"} is n + 8 bytes
    const sized = (bytes: number, char = 'x') => ({ k: char.repeat((bytes - 8) / Buffer.byteLength(char)) });

    it('accepts exactly 16384 bytes and refuses 16385 bytes (compact UTF-8 JSON)', async () => {
      expect(Buffer.byteLength(JSON.stringify(sized(16_384)))).toBe(16_384);
      const ok = await t
        .http()
        .post(`${API}/orgs`)
        .set(alice.auth)
        .send({ name: 'Big', metadata: sized(16_384) })
        .expect(201);
      expect(ok.body.metadata).toEqual(sized(16_384));
      const big = { k: 'x'.repeat(16_377) };
      expect(Buffer.byteLength(JSON.stringify(big))).toBe(16_385);
      const res = await t.http().patch(`${API}/orgs/${ok.body.id}`).set(alice.auth).send({ metadata: big });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'metadata' })]);
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'Big', metadata: big }), 400, 'validation_failed');
    });

    it('counts UTF-8 bytes, not characters', async () => {
      const twoByte = { k: 'é'.repeat(8_189) }; // 8 + 16378 bytes = 16386 bytes, 8197 characters
      expect(JSON.stringify(twoByte).length).toBeLessThan(16_384);
      expect(Buffer.byteLength(JSON.stringify(twoByte))).toBe(16_386);
      expectProblem(await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'U', metadata: twoByte }), 400, 'validation_failed');
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'plan=pro'],
      ['a number', 42],
      ['null', null],
      ['a boolean', true],
    ])('refuses metadata that is %s with 400', async (_label, metadata) => {
      const res = await t.http().post(`${API}/orgs`).set(alice.auth).send({ name: 'M', metadata });
      expectProblem(res, 400, 'validation_failed');
      const org = await givenOrg(t, alice);
      expectProblem(await t.http().patch(`${API}/orgs/${org.id}`).set(alice.auth).send({ metadata }), 400, 'validation_failed');
    });

    it('PATCH replaces the whole object', async () => {
      const org = await givenOrg(t, alice, { metadata: { a: 1, b: 2 } });
      const res = await t
        .http()
        .patch(`${API}/orgs/${org.id}`)
        .set(alice.auth)
        .send({ metadata: { c: 3 } })
        .expect(200);
      expect(res.body.metadata).toEqual({ c: 3 });
      const [row] = await t.sql<{ metadata: unknown }>(`SELECT metadata FROM organizations WHERE id = $1`, [org.id]);
      expect(row.metadata).toEqual({ c: 3 });
    });
  });

  describe('GET and PATCH /orgs/{org_id}', () => {
    it('reads the org with your_role', async () => {
      const org = await givenOrg(t, alice, { name: 'Readable' });
      const viewer = await givenMember(t, org, 'Viewer');
      const res = await t.http().get(`${API}/orgs/${org.id}`).set(viewer.auth).expect(200);
      expect(res.body).toMatchObject({ id: org.id, name: 'Readable', slug: org.slug, metadata: {}, your_role: 'Viewer' });
    });

    it('changes name and slug, bumps updated_at, and leaves absent fields alone', async () => {
      const org = await givenOrg(t, alice, { name: 'Before', metadata: { keep: true } });
      t.clock.advance(60_000);
      const res = await t.http().patch(`${API}/orgs/${org.id}`).set(alice.auth).send({ name: 'After', slug: 'after-slug' }).expect(200);
      expect(res.body).toMatchObject({ name: 'After', slug: 'after-slug', metadata: { keep: true }, your_role: 'Owner' });
      expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(res.body.created_at));
      const again = await t.http().get(`${API}/orgs/${org.id}`).set(alice.auth).expect(200);
      expect(again.body).toMatchObject({ name: 'After', slug: 'after-slug' });
    });

    it('refuses a slug another org holds (409 slug_taken), bad slugs and unknown fields (400)', async () => {
      const a = await givenOrg(t, alice);
      const b = await givenOrg(t, alice);
      expectProblem(await t.http().patch(`${API}/orgs/${b.id}`).set(alice.auth).send({ slug: a.slug }), 409, 'slug_taken');
      // its own slug is not a conflict
      await t.http().patch(`${API}/orgs/${b.id}`).set(alice.auth).send({ slug: b.slug }).expect(200);
      expectProblem(await t.http().patch(`${API}/orgs/${b.id}`).set(alice.auth).send({ slug: 'No' }), 400, 'validation_failed');
      expectProblem(await t.http().patch(`${API}/orgs/${b.id}`).set(alice.auth).send({ id: a.id }), 400, 'validation_failed');
      expectProblem(
        await t.http().patch(`${API}/orgs/${b.id}`).set(alice.auth).send({ created_at: '2000-01-01T00:00:00Z' }),
        400,
        'validation_failed',
      );
    });

    it.each(['not-a-uuid', '123', 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'])(
      'answers a malformed org id (%s) with 400, not 500',
      async (id) => {
        expectProblem(await t.http().get(`${API}/orgs/${id}`).set(alice.auth), 400, 'validation_failed');
        expectProblem(await t.http().patch(`${API}/orgs/${id}`).set(alice.auth).send({ name: 'x' }), 400, 'validation_failed');
        expectProblem(await t.http().delete(`${API}/orgs/${id}`).set(alice.auth), 400, 'validation_failed');
        expectProblem(await t.http().get(`${API}/orgs/${id}/members`).set(alice.auth), 400, 'validation_failed');
        expectProblem(await t.http().get(`${API}/orgs/${id}/roles`).set(alice.auth), 400, 'validation_failed');
      },
    );

    it('answers an unknown org like a foreign one: 404 org_not_found', async () => {
      const unknown = '01900000-0000-7000-8000-000000000000';
      expectProblem(await t.http().get(`${API}/orgs/${unknown}`).set(alice.auth), 404, 'org_not_found');
    });
  });

  describe('DELETE /orgs/{org_id}', () => {
    it('deletes the org, its memberships and custom roles, and unscopes sessions scoped to it', async () => {
      const owner = await givenUser(t);
      const org = await givenOrg(t, owner);
      const member = await givenMember(t, org, 'Member');
      const role = await t
        .http()
        .post(`${API}/orgs/${org.id}/roles`)
        .set(owner.auth)
        .send({ name: 'Reader', permissions: ['org.read'] })
        .expect(201);
      // the member works in the org (warms every cache), scoped to it
      const switched = await t.http().post(`${API}/auth/switch-org`).set(member.auth).send({ org_id: org.id }).expect(200);
      const memberAuth = { Authorization: `Bearer ${switched.body.access_token}` };
      await t.http().get(`${API}/orgs/${org.id}`).set(memberAuth).expect(200);
      expect((await t.http().get(`${API}/auth/me`).set(memberAuth).expect(200)).body.current_org_id).toBe(org.id);

      await t.http().delete(`${API}/orgs/${org.id}`).set(owner.auth).expect(204);

      expect(await t.sql(`SELECT 1 FROM organizations WHERE id = $1`, [org.id])).toHaveLength(0);
      expect(await t.sql(`SELECT 1 FROM memberships WHERE org_id = $1`, [org.id])).toHaveLength(0);
      expect(await t.sql(`SELECT 1 FROM roles WHERE id = $1`, [role.body.id])).toHaveLength(0);
      expect(await t.sql(`SELECT 1 FROM sessions WHERE current_org_id = $1`, [org.id])).toHaveLength(0);
      expectProblem(await t.http().get(`${API}/orgs/${org.id}`).set(memberAuth), 404, 'org_not_found');
      expectProblem(await t.http().get(`${API}/orgs/${org.id}`).set(owner.auth), 404, 'org_not_found');
      const me = await t.http().get(`${API}/auth/me`).set(memberAuth).expect(200);
      expect(me.body).toMatchObject({ current_org_id: null, current_org_role: null, permissions: [] });
      // the users themselves are untouched
      expect(await t.sql(`SELECT 1 FROM users WHERE id = ANY($1::uuid[])`, [[owner.id, member.id]])).toHaveLength(2);
    });
  });

  describe('GET /orgs (pagination)', () => {
    let bob: GivenUser;
    const created: string[] = [];
    beforeAll(async () => {
      bob = await givenUser(t);
      created.push(bob.orgId);
      for (let i = 0; i < 4; i++) created.push((await givenOrg(t, bob)).id);
      // an org bob is a Viewer of
      const other = await givenOrg(t, alice);
      await givenMember(t, other, 'Viewer', bob);
      created.push(other.id);
    });

    it("lists the caller's orgs with your_role, default limit 50", async () => {
      const res = await t.http().get(`${API}/orgs`).set(bob.auth).expect(200);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data.map((o: { id: string }) => o.id).sort()).toEqual([...created].sort());
      const roles = Object.fromEntries(res.body.data.map((o: { id: string; your_role: string }) => [o.id, o.your_role]));
      expect(roles[created[5]]).toBe('Viewer');
      expect(roles[bob.orgId]).toBe('Owner');
      expect(res.body.data[0]).toEqual({
        id: expect.any(String),
        name: expect.any(String),
        slug: expect.any(String),
        metadata: expect.any(Object),
        created_at: expect.any(String),
        updated_at: expect.any(String),
        your_role: expect.any(String),
      });
    });

    it('walks pages with the cursor: every org once, in a stable order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `${API}/orgs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await t.http().get(url).set(bob.auth).expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((o: { id: string }) => o.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...created].sort());
    });

    it('accepts limit 1 and 200, refuses 0, 201, -1, 1.5, abc (400)', async () => {
      expect((await t.http().get(`${API}/orgs?limit=1`).set(bob.auth).expect(200)).body.data).toHaveLength(1);
      await t.http().get(`${API}/orgs?limit=200`).set(bob.auth).expect(200);
      for (const bad of ['0', '201', '-1', '1.5', 'abc', '']) {
        const res = await t.http().get(`${API}/orgs?limit=${bad}`).set(bob.auth);
        expectProblem(res, 400, 'validation_failed');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'limit' })]);
      }
    });

    it('refuses an invalid cursor (400): garbage, tampered, or one from another list', async () => {
      await givenMember(t, { id: bob.orgId }, 'Viewer');
      const membersPage = await t.http().get(`${API}/orgs/${bob.orgId}/members?limit=1`).set(bob.auth).expect(200);
      expect(membersPage.body.next_cursor).toEqual(expect.any(String));
      const orgsPage = await t.http().get(`${API}/orgs?limit=1`).set(bob.auth).expect(200);
      const tampered = Buffer.from(Buffer.from(orgsPage.body.next_cursor, 'base64url').toString().replace(/.$/, 'z')).toString('base64url');
      for (const cursor of ['garbage', 'dGhpcyBpcyBub3QgYSBjdXJzb3I', tampered, membersPage.body.next_cursor, 'a'.repeat(300)]) {
        const res = await t
          .http()
          .get(`${API}/orgs?cursor=${encodeURIComponent(cursor)}`)
          .set(bob.auth);
        expectProblem(res, 400, 'validation_failed');
      }
      // and the other way round
      expectProblem(
        await t
          .http()
          .get(`${API}/orgs/${bob.orgId}/members?cursor=${encodeURIComponent(orgsPage.body.next_cursor)}`)
          .set(bob.auth),
        400,
        'validation_failed',
      );
    });

    it('refuses unknown query parameters (400)', async () => {
      expectProblem(await t.http().get(`${API}/orgs?user_id=${alice.id}`).set(bob.auth), 400, 'validation_failed');
    });
  });
});
