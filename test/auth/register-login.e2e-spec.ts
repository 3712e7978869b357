import { createTestApp, TestApp } from '../support/test-app';
import { bearer, expectProblem, givenUser, GOOD_PASSWORD, uniqueEmail } from '../support/factories';

/** Rate limits have their own suite; these sign in a lot from one address. */
const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '0/1m', RATE_LIMIT_REGISTER: '0/1m', RATE_LIMIT_REFRESH: '0/1m' };

const ALL_PERMISSIONS = [
  'api_key.manage',
  'audit.read',
  'flag.manage',
  'org.delete',
  'org.read',
  'org.update',
  'role.manage',
  'user.invite',
  'user.manage',
  'user.read',
];

/** Register, login, passwords, emails, GET/PATCH /auth/me and GET /permissions, through real HTTP. */
describe('auth: register and login', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
  });
  afterAll(async () => {
    await t.close();
  });

  const register = (body: Record<string, unknown>) => t.http().post('/api/v1/auth/register').send(body);
  const loginRaw = (body: Record<string, unknown>) => t.http().post('/api/v1/auth/login').send(body);

  describe('POST /auth/register', () => {
    it('creates the user, a personal organization with the user as Owner, and answers a token response', async () => {
      const email = uniqueEmail('reg');
      const res = await register({ email, password: GOOD_PASSWORD, full_name: '  Ada Lovelace ' }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(res.body).sort()).toEqual(
        ['access_token', 'expires_in', 'organization', 'refresh_token', 'role', 'token_type', 'user'].sort(),
      );
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        role: 'Owner',
        organization: { id: expect.any(String), name: "Ada Lovelace's organization", slug: 'ada-lovelace-s-organization' },
        user: {
          id: expect.any(String),
          email,
          full_name: 'Ada Lovelace',
          email_verified: false,
          two_factor_enabled: false,
          current_org_role: 'Owner',
          permissions: ALL_PERMISSIONS,
        },
      });
      expect(Object.keys(res.body.organization).sort()).toEqual(['id', 'name', 'slug']);
      expect(res.body.user.current_org_id).toBe(res.body.organization.id);
      expect(res.body.user.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(res.body.user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(res.body.refresh_token.length).toBeGreaterThanOrEqual(43); // >= 256 bits, base64url

      // The token response's `user` is the GET /auth/me object.
      const me = await t.http().get('/api/v1/auth/me').set(bearer(res.body.access_token)).expect(200);
      expect(me.body).toEqual(res.body.user);

      // Stored: argon2id hash (not the password), Owner membership, refresh token only as a hash.
      const [row] = await t.sql<{ password_hash: string; last_org_id: string }>(
        'SELECT password_hash, last_org_id FROM users WHERE id = $1',
        [res.body.user.id],
      );
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
      const params = Object.fromEntries(
        row.password_hash
          .split('$')[3]
          .split(',')
          .map((kv) => kv.split('=')),
      );
      expect(Number(params.m)).toBeGreaterThanOrEqual(19456); // OWASP minimum for argon2id
      expect(Number(params.t)).toBeGreaterThanOrEqual(2);
      expect(row.password_hash).not.toContain(GOOD_PASSWORD);
      expect(row.last_org_id).toBe(res.body.organization.id);
      const members = await t.sql<{ role_id: string }>('SELECT role_id FROM memberships WHERE user_id = $1', [res.body.user.id]);
      expect(members).toEqual([{ role_id: '00000000-0000-7000-8000-000000000001' }]);
      const tokens = await t.sql('SELECT 1 FROM refresh_tokens WHERE token_hash = $1', [res.body.refresh_token]);
      expect(tokens).toHaveLength(0);
    });

    it('derives a unique slug when two users have the same name', async () => {
      const a = await register({ email: uniqueEmail(), password: GOOD_PASSWORD, full_name: 'Same Name' }).expect(201);
      const b = await register({ email: uniqueEmail(), password: GOOD_PASSWORD, full_name: 'Same Name' }).expect(201);
      expect(a.body.organization.slug).not.toBe(b.body.organization.slug);
      expect(b.body.organization.slug).toMatch(/^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$/);
    });

    it.each([
      ['no body fields', {}, ['email', 'password', 'full_name']],
      ['a bad email', { email: 'not-an-email', password: GOOD_PASSWORD, full_name: 'X Y' }, ['email']],
      ['a blank name', { email: 'blank@example.test', password: GOOD_PASSWORD, full_name: '   ' }, ['full_name']],
      ['a non-string password', { email: 'num@example.test', password: 12345678, full_name: 'X Y' }, ['password']],
      [
        'an unknown field (mass assignment)',
        { email: 'm@example.test', password: GOOD_PASSWORD, full_name: 'X', is_admin: true },
        ['is_admin'],
      ],
    ])('refuses %s: 400 validation_failed listing the fields', async (_name, body, fields) => {
      const res = await register(body);
      expectProblem(res, 400, 'validation_failed');
      const listed = (res.body.errors as { field: string; message: string }[]).map((e) => e.field);
      for (const f of fields) expect(listed).toContain(f);
      for (const e of res.body.errors) expect(e).toEqual({ field: expect.any(String), message: expect.any(String) });
    });

    it('creates nothing when it refuses', async () => {
      const email = uniqueEmail('refused');
      expectProblem(await register({ email, password: 'short', full_name: 'X Y' }), 400, 'validation_failed');
      expectProblem(await register({ email, password: 'password123', full_name: 'X Y' }), 400, 'password_too_weak');
      expect(await t.sql('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email])).toHaveLength(0);
    });
  });

  describe('passwords', () => {
    const tryPassword = (password: string) => register({ email: uniqueEmail('pw'), password, full_name: 'P W' });

    it('counts Unicode code points, not UTF-16 units: 8 emoji pass, 7 fail', async () => {
      await tryPassword('😀🦊🐙🌵🚀🎲🧩🪐').expect(201);
      const res = await tryPassword('😀🦊🐙🌵🚀🎲🧩');
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'password', message: expect.stringMatching(/8 to 128/) }]);
    });

    it('accepts 8 and 128 code points, refuses 7 and 129', async () => {
      await tryPassword('kq7#vz2m').expect(201);
      await tryPassword('kq7#vz2m'.repeat(16)).expect(201);
      expectProblem(await tryPassword('kq7#vz2'), 400, 'validation_failed');
      expectProblem(await tryPassword('kq7#vz2m'.repeat(16) + 'x'), 400, 'validation_failed');
    });

    it('measures the length after NFKC (3 ligatures "ﬃ" are 9 characters)', async () => {
      await tryPassword('ﬃﬃﬃ').expect(201);
    });

    it('refuses a common password, case-insensitively, also in a compatibility form: 400 password_too_weak', async () => {
      for (const pw of ['password123', 'PassWord123', 'ｐａｓｓｗｏｒｄ１２３', 'qwertyuiop']) {
        const res = await tryPassword(pw);
        expectProblem(res, 400, 'password_too_weak');
        expect(res.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
      }
    });

    it('does not trim: a trailing space is part of the password', async () => {
      const u = await givenUser(t, { password: 'violet-otter-harbor-42 ' });
      expectProblem(await loginRaw({ email: u.email, password: 'violet-otter-harbor-42' }), 401, 'invalid_credentials');
      await loginRaw({ email: u.email, password: 'violet-otter-harbor-42 ' }).expect(200);
    });

    it('does not fold case', async () => {
      const u = await givenUser(t, { password: 'Violet-Otter-Harbor-42' });
      expectProblem(await loginRaw({ email: u.email, password: 'violet-otter-harbor-42' }), 401, 'invalid_credentials');
    });

    it('compares NFKC forms: registered in fullwidth form, signs in with the ASCII form (and back)', async () => {
      const fullwidth = 'ｚｅｂｒａ－ｃｏｍｅｔ－７７'; // NFKC: "zebra-comet-77"
      const u = await givenUser(t, { password: fullwidth });
      await loginRaw({ email: u.email, password: 'zebra-comet-77' }).expect(200);
      await loginRaw({ email: u.email, password: fullwidth }).expect(200);
      const v = await givenUser(t, { password: 'zebra-comet-88' });
      await loginRaw({ email: v.email, password: 'ｚｅｂｒａ－ｃｏｍｅｔ－８８' }).expect(200);
    });
  });

  describe('emails', () => {
    it('are trimmed and compared case-insensitively', async () => {
      const local = `Mixed.${Date.now().toString(36)}`;
      const res = await register({ email: `  ${local}@Example.TEST `, password: GOOD_PASSWORD, full_name: 'Case Test' }).expect(201);
      expect(res.body.user.email.toLowerCase()).toBe(`${local}@example.test`.toLowerCase());
      expect(res.body.user.email).toBe(res.body.user.email.trim());
      const login = await loginRaw({ email: ` ${local.toLowerCase()}@example.test  `, password: GOOD_PASSWORD }).expect(200);
      expect(login.body.user.id).toBe(res.body.user.id);
      await loginRaw({ email: `${local.toUpperCase()}@EXAMPLE.TEST`, password: GOOD_PASSWORD }).expect(200);
    });

    it('a taken email (in any case) is 409 email_taken', async () => {
      const u = await givenUser(t);
      expectProblem(await register({ email: u.email, password: GOOD_PASSWORD, full_name: 'Again' }), 409, 'email_taken');
      expectProblem(
        await register({ email: ` ${u.email.toUpperCase()} `, password: GOOD_PASSWORD, full_name: 'Again' }),
        409,
        'email_taken',
      );
      expect(await t.sql('SELECT 1 FROM users WHERE lower(email) = lower($1)', [u.email])).toHaveLength(1);
    });

    it('5 concurrent registrations with one email: exactly one 201, the others 409, one user and one org', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          register({ email: i % 2 ? email.toUpperCase() : email, password: GOOD_PASSWORD, full_name: 'Racer' }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectProblem(r, 409, 'email_taken');
      const users = await t.sql<{ id: string }>('SELECT id FROM users WHERE lower(email) = lower($1)', [email]);
      expect(users).toHaveLength(1);
      expect(await t.sql('SELECT 1 FROM memberships WHERE user_id = $1', [users[0].id])).toHaveLength(1);
    });
  });

  describe('POST /auth/login', () => {
    it('answers a token response scoped to the personal org', async () => {
      const u = await givenUser(t, { fullName: 'Login Person' });
      const res = await loginRaw({ email: u.email, password: u.password }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        role: 'Owner',
        organization: { id: u.orgId },
        user: { id: u.id, email: u.email, full_name: 'Login Person', current_org_id: u.orgId },
      });
      expect(res.body.refresh_token).not.toBe(u.refreshToken);
      await t.http().get('/api/v1/auth/me').set(bearer(res.body.access_token)).expect(200);
      // Each login is a new session; the one of registration stays.
      await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(await t.sql('SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [u.id])).toHaveLength(2);
    });

    it('accepts (and ignores, 2FA being off) a two_factor_code', async () => {
      const u = await givenUser(t);
      await loginRaw({ email: u.email, password: u.password, two_factor_code: '123456' }).expect(200);
    });

    it('unknown email and wrong password give the same 401 invalid_credentials body (but the request id)', async () => {
      const u = await givenUser(t);
      const wrong = await loginRaw({ email: u.email, password: 'wrong-password-123' });
      const unknown = await loginRaw({ email: uniqueEmail('nobody'), password: 'wrong-password-123' });
      expectProblem(wrong, 401, 'invalid_credentials');
      expectProblem(unknown, 401, 'invalid_credentials');
      const { request_id: r1, ...a } = wrong.body;
      const { request_id: r2, ...b } = unknown.body;
      expect(a).toEqual(b);
      expect(r1).not.toBe(r2);
      expect(wrong.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
      expect(wrong.headers['content-type']).toBe(unknown.headers['content-type']);
      // a session is not created
      expect(await t.sql('SELECT 1 FROM sessions WHERE user_id = $1', [u.id])).toHaveLength(1);
    });

    it.each([
      ['an empty body', {}],
      ['a non-string email', { email: 42, password: 'x' }],
      ['an unknown field', { email: 'a@example.test', password: 'x', remember_me: true }],
    ])('refuses %s: 400 validation_failed', async (_name, body) => {
      const res = await loginRaw(body);
      expectProblem(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.errors)).toBe(true);
    });

    it('a NUL character (which PostgreSQL text cannot hold) is 400 validation_failed, never a 500', async () => {
      const u = await givenUser(t);
      const res = await loginRaw({ email: 'nul\u0000@example.test', password: GOOD_PASSWORD });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
      expectProblem(
        await register({ email: uniqueEmail(), password: GOOD_PASSWORD, full_name: 'Nul\u0000Name' }),
        400,
        'validation_failed',
      );
      expectProblem(await t.http().patch('/api/v1/auth/me').set(u.auth).send({ full_name: 'a\u0000b' }), 400, 'validation_failed');
      expectProblem(await t.http().post('/api/v1/auth/refresh').send({ refresh_token: 'x\u0000y' }), 400, 'validation_failed');
    });
  });

  describe('GET and PATCH /auth/me', () => {
    it('GET answers the caller with role and permissions in the current org', async () => {
      const u = await givenUser(t, { fullName: 'Me Myself' });
      const res = await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'created_at',
          'current_org_id',
          'current_org_role',
          'email',
          'email_verified',
          'full_name',
          'id',
          'permissions',
          'two_factor_enabled',
        ].sort(),
      );
      expect(res.body).toMatchObject({ id: u.id, current_org_id: u.orgId, current_org_role: 'Owner', permissions: ALL_PERMISSIONS });
    });

    it('GET without a token is 401 token_invalid', async () => {
      expectProblem(await t.http().get('/api/v1/auth/me'), 401, 'token_invalid');
    });

    it('PATCH changes the name (trimmed), and GET sees it at once', async () => {
      const u = await givenUser(t, { fullName: 'Old Name' });
      await t.http().get('/api/v1/auth/me').set(u.auth).expect(200); // warm the cache
      const res = await t.http().patch('/api/v1/auth/me').set(u.auth).send({ full_name: '  New Name ' }).expect(200);
      expect(res.body).toMatchObject({ id: u.id, full_name: 'New Name', current_org_role: 'Owner' });
      const me = await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(me.body.full_name).toBe('New Name');
    });

    it.each([
      ['a missing name', {}],
      ['a blank name', { full_name: '   ' }],
      ['a name over 200 characters', { full_name: 'x'.repeat(201) }],
      ['the email (not changeable here)', { full_name: 'A', email: 'x@example.test' }],
      ['a mass-assigned flag', { full_name: 'A', email_verified: true }],
    ])('PATCH refuses %s: 400 validation_failed', async (_name, body) => {
      const u = await givenUser(t);
      expectProblem(await t.http().patch('/api/v1/auth/me').set(u.auth).send(body), 400, 'validation_failed');
      const me = await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(me.body).toMatchObject({ full_name: u.fullName, email: u.email, email_verified: false });
    });

    it('PATCH without a token is 401 token_invalid', async () => {
      expectProblem(await t.http().patch('/api/v1/auth/me').send({ full_name: 'X' }), 401, 'token_invalid');
    });
  });

  describe('GET /permissions', () => {
    it('lists the catalog {key, description} with next_cursor null', async () => {
      const u = await givenUser(t);
      const res = await t.http().get('/api/v1/permissions').set(u.auth).expect(200);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data.map((p: { key: string }) => p.key).sort()).toEqual(ALL_PERMISSIONS);
      for (const p of res.body.data) {
        expect(Object.keys(p).sort()).toEqual(['description', 'key']);
        expect(p.description.length).toBeGreaterThan(0);
      }
    });

    it('needs a token: 401 token_invalid', async () => {
      expectProblem(await t.http().get('/api/v1/permissions'), 401, 'token_invalid');
    });
  });
});
