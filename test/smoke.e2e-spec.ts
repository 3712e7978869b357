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
});
