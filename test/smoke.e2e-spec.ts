import { createTestApp, TestApp } from './support/test-app';
import { expectProblem, givenUser } from './support/factories';

describe('smoke: register, me, errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers a user with a personal organization and serves /auth/me', async () => {
    const u = await givenUser(t, { fullName: 'Grace Hopper' });
    const me = await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
    expect(me.body).toMatchObject({
      id: u.id,
      email: u.email,
      full_name: 'Grace Hopper',
      current_org_id: u.orgId,
      current_org_role: 'Owner',
    });
    expect(me.body.permissions).toContain('org.delete');
  });

  it('answers unknown routes with problem+json 404', async () => {
    const res = await t.http().get('/api/v1/nope');
    expectProblem(res, 404, 'not_found');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('serves liveness, readiness, metrics and the OpenAPI document', async () => {
    await t.http().get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.checks.database).toBe('ok');
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toContain('saasready_http_request_duration_seconds_bucket');
    expect(metrics.text).toContain('route="/api/v1/auth/register"');
    const doc = await t.http().get('/docs/openapi.json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.paths['/api/v1/auth/login']).toBeDefined();
  });
});
