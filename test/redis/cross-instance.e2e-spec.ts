import { describeWithRedis } from '../support/env';
import { expectProblem, givenUser } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

/** Polls until `check` passes or the deadline: pub/sub delivery between instances is asynchronous. */
async function eventually(check: () => Promise<void>, deadlineMs = 3000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

describeWithRedis('two API instances on one database and one Redis behave as one', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ redis: true });
    b = await createTestApp({ redis: true, shareDatabaseWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a logout on one instance is refused on the other', async () => {
    const u = await givenUser(a);
    // B caches the live session state first.
    await b.http().get('/api/v1/auth/me').set(u.auth).expect(200);
    await a.http().post('/api/v1/auth/logout').set(u.auth).expect(204);
    await eventually(async () => expectProblem(await b.http().get('/api/v1/auth/me').set(u.auth), 401, 'session_revoked'));
  });

  it('logout-all on one instance ends every session on the other', async () => {
    const u = await givenUser(a);
    const second = await a.http().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(200);
    const auth2 = { Authorization: `Bearer ${second.body.access_token}` };
    await b.http().get('/api/v1/auth/me').set(auth2).expect(200);
    await a.http().post('/api/v1/auth/logout-all').set(u.auth).expect(204);
    await eventually(async () => expectProblem(await b.http().get('/api/v1/auth/me').set(auth2), 401, 'session_revoked'));
  });

  it('a profile change on one instance is seen on the other', async () => {
    const u = await givenUser(a, { fullName: 'Before' });
    await b.http().get('/api/v1/auth/me').set(u.auth).expect(200);
    await a.http().patch('/api/v1/auth/me').set(u.auth).send({ full_name: 'After' }).expect(200);
    await eventually(async () => expect((await b.http().get('/api/v1/auth/me').set(u.auth)).body.full_name).toBe('After'));
  });

  it('an organization renamed or deleted on one instance is seen so on the other', async () => {
    const u = await givenUser(a);
    const orgId = u.orgId;
    // B caches the org row first.
    expect((await b.http().get(`/api/v1/orgs/${orgId}`).set(u.auth).expect(200)).body.name).not.toBe('Renamed on A');
    await a.http().patch(`/api/v1/orgs/${orgId}`).set(u.auth).send({ name: 'Renamed on A' }).expect(200);
    await eventually(async () => expect((await b.http().get(`/api/v1/orgs/${orgId}`).set(u.auth)).body.name).toBe('Renamed on A'));
    await a.http().delete(`/api/v1/orgs/${orgId}`).set(u.auth).expect(204);
    await eventually(async () => expectProblem(await b.http().get(`/api/v1/orgs/${orgId}`).set(u.auth), 404, 'org_not_found'));
  });

  it('tokens signed by one instance verify on the other (shared keys)', async () => {
    const u = await givenUser(b);
    await a.http().get('/api/v1/auth/me').set(u.auth).expect(200);
    const jwksA = (await a.http().get('/.well-known/jwks.json')).body;
    const jwksB = (await b.http().get('/.well-known/jwks.json')).body;
    expect(jwksA).toEqual(jwksB);
  });

  it('reports Redis in readiness', async () => {
    const res = await a.http().get('/health/ready').expect(200);
    expect(res.body.checks).toEqual({ database: 'ok', redis: 'ok' });
  });
});
