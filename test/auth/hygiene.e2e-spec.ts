import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenUser, GOOD_PASSWORD, uniqueEmail } from '../support/factories';

const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '0/1m', RATE_LIMIT_REGISTER: '0/1m', RATE_LIMIT_REFRESH: '0/1m' };
const PROBLEM_KEYS = ['code', 'detail', 'request_id', 'status', 'title', 'type'];

/** The HTTP rules every route obeys: bodies, problem+json, request ids, no-store, 404s and 500s. */
describe('auth: HTTP hygiene', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string) => t.http().post(`/api/v1${path}`);

  describe('request bodies', () => {
    it.each([
      ['text/plain', 'email=a@example.test'],
      ['application/x-www-form-urlencoded', 'email=a%40example.test&password=x'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--x--'],
      ['application/xml', '<login/>'],
    ])('a %s body is 415 unsupported_media_type', async (type, body) => {
      const res = await post('/auth/login').set('Content-Type', type).send(body);
      expectProblem(res, 415, 'unsupported_media_type');
    });

    it('application/json with a charset is fine', async () => {
      const u = await givenUser(t);
      await post('/auth/login')
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ email: u.email, password: u.password }))
        .expect(200);
    });

    it.each([
      ['truncated', '{"email": "a@example.test", '],
      ['trailing garbage', '{"email": "a@example.test"} x'],
      ['single quotes', "{'email': 'a'}"],
      ['a bare word', 'hello'],
    ])('malformed JSON (%s) is 400 malformed_body', async (_name, body) => {
      const res = await post('/auth/login').set('Content-Type', 'application/json').send(body);
      expectProblem(res, 400, 'malformed_body');
    });

    it('a body over 65,536 bytes is 413 payload_too_large; just under is read', async () => {
      const big = JSON.stringify({ email: 'a@example.test', password: 'x'.repeat(70_000) });
      expectProblem(await post('/auth/login').set('Content-Type', 'application/json').send(big), 413, 'payload_too_large');
      const under = JSON.stringify({ email: 'a@example.test', password: 'x', pad: '' });
      const fill = JSON.stringify({ email: 'a@example.test', password: 'x', pad: 'y'.repeat(65_536 - under.length) });
      expect(Buffer.byteLength(fill)).toBe(65_536);
      const res = await post('/auth/login').set('Content-Type', 'application/json').send(fill);
      expectProblem(res, 400, 'validation_failed'); // read and validated: `pad` is an unknown field
    });

    it('an unknown field is 400 validation_failed with errors[] naming it', async () => {
      const res = await post('/auth/register').send({
        email: uniqueEmail(),
        password: GOOD_PASSWORD,
        full_name: 'X',
        role: 'Owner',
        org_id: 'x',
      });
      expectProblem(res, 400, 'validation_failed');
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual(['org_id', 'role']);
    });

    it.each([
      ['an array', '[{"email":"a@example.test","password":"x"}]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['true', 'true'],
    ])('a body that is %s is 400', async (_name, body) => {
      const res = await post('/auth/login').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(['validation_failed', 'malformed_body']).toContain(res.body.code);
    });

    it('a JSON null or empty body on a route with fields is 400 validation_failed (missing fields)', async () => {
      const res = await post('/auth/login').set('Content-Type', 'application/json').send('null');
      expectProblem(res, 400, 'validation_failed');
      const empty = await post('/auth/login');
      expect(empty.status).toBe(400);
    });

    it('__proto__ and constructor keys are refused, not merged', async () => {
      const res = await post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"email":"a@example.test","password":"x","__proto__":{"admin":true}}');
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  describe('X-Request-Id', () => {
    it('echoes a valid client id (1..128 of [A-Za-z0-9._-]), in the header and in problem bodies', async () => {
      for (const id of ['a', 'req-123_ABC.xyz', 'x'.repeat(128)]) {
        const res = await t.http().get('/api/v1/nope').set('X-Request-Id', id);
        expect(res.headers['x-request-id']).toBe(id);
        expect(res.body.request_id).toBe(id);
      }
      const ok = await t.http().get('/health/live').set('X-Request-Id', 'live-1').expect(200);
      expect(ok.headers['x-request-id']).toBe('live-1');
    });

    it('replaces an invalid one with a fresh id', async () => {
      for (const id of ['x'.repeat(129), 'has space', 'semi;colon', '<script>', 'ünïcode', 'a/b']) {
        const res = await t.http().get('/api/v1/nope').set('X-Request-Id', id);
        expect(res.headers['x-request-id']).toBeTruthy();
        expect(res.headers['x-request-id']).not.toBe(id);
        expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
        expect(res.body.request_id).toBe(res.headers['x-request-id']);
      }
    });

    it('is on every response: success, 401, 413, 415', async () => {
      const u = await givenUser(t);
      const responses = [
        await t.http().get('/api/v1/auth/me').set(u.auth),
        await t.http().get('/api/v1/auth/me'),
        await post('/auth/login')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ p: 'x'.repeat(70_000) })),
        await post('/auth/login').set('Content-Type', 'text/plain').send('x'),
        await t.http().get('/.well-known/jwks.json'),
      ];
      const ids = responses.map((r) => r.headers['x-request-id']);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('Cache-Control: no-store on every response that carries tokens', () => {
    it('register, login, refresh and switch-org', async () => {
      const reg = await post('/auth/register').send({ email: uniqueEmail(), password: GOOD_PASSWORD, full_name: 'Cache Test' }).expect(201);
      expect(reg.headers['cache-control']).toBe('no-store');
      const log = await post('/auth/login').send({ email: reg.body.user.email, password: GOOD_PASSWORD }).expect(200);
      expect(log.headers['cache-control']).toBe('no-store');
      const ref = await post('/auth/refresh').send({ refresh_token: log.body.refresh_token }).expect(200);
      expect(ref.headers['cache-control']).toBe('no-store');
      const sw = await post('/auth/switch-org')
        .set('Authorization', `Bearer ${ref.body.access_token}`)
        .send({ org_id: reg.body.organization.id })
        .expect(200);
      expect(sw.headers['cache-control']).toBe('no-store');
    });
  });

  describe('errors', () => {
    it('an unknown route is 404 not_found problem+json, for any method', async () => {
      for (const res of [
        await t.http().get('/api/v1/nope'),
        await t.http().post('/api/v1/nope').send({}),
        await t.http().get('/nope'),
        await t.http().get('/api/v2/auth/me'),
        await t.http().delete('/api/v1/auth/me'),
      ]) {
        expectProblem(res, 404, 'not_found');
        expect(Object.keys(res.body).sort()).toEqual(PROBLEM_KEYS);
      }
    });

    it('problem bodies have exactly the contract fields (plus errors on 400s) and a type URI per code', async () => {
      const res = await t.http().get('/api/v1/auth/me');
      expectProblem(res, 401, 'token_invalid');
      expect(Object.keys(res.body).sort()).toEqual(PROBLEM_KEYS);
      expect(res.body.title).toBe('Unauthorized');
      expect(res.body.type).toMatch(/^https?:\/\/\S+token-invalid$/);
      const bad = await post('/auth/login').send({});
      expect(Object.keys(bad.body).sort()).toEqual([...PROBLEM_KEYS, 'errors'].sort());
    });

    it('a 500 shows no stack, no internal message: only the request id (also in X-Request-Id)', async () => {
      const email = uniqueEmail('five-hundred');
      await t.sql('ALTER TABLE organizations RENAME TO organizations_moved_by_test');
      let res;
      try {
        res = await post('/auth/register')
          .set('X-Request-Id', 'boom-1')
          .send({ email, password: GOOD_PASSWORD, full_name: 'Five Hundred' });
      } finally {
        await t.sql('ALTER TABLE organizations_moved_by_test RENAME TO organizations');
      }
      expectProblem(res, 500, 'internal_error');
      expect(Object.keys(res.body).sort()).toEqual(PROBLEM_KEYS);
      expect(res.body.request_id).toBe('boom-1');
      expect(res.headers['x-request-id']).toBe('boom-1');
      expect(res.text).not.toMatch(/organizations|relation|stack|\.ts:|at \w+ \(/);
      // nothing half-done stays behind (one transaction), and the service carries on
      expect(await t.sql('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email])).toHaveLength(0);
      await givenUser(t, { email });
    });
  });
});
