import { givenUser } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

// Regression: the chain is walked in `seq` order; sorting it as text (9 after 10) broke verification
// as soon as an org's rows had sequence numbers of different lengths.
describe('audit chain verification across sequence numbers of different lengths', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('an intact chain of more than 10 rows (and more than 100 overall) verifies', async () => {
    const u = await givenUser(t);
    for (let i = 0; i < 12; i++) {
      await t
        .http()
        .patch(`/api/v1/orgs/${u.orgId}`)
        .set(u.auth)
        .send({ name: `Renamed ${i}` })
        .expect(200);
    }
    const [{ max }] = await t.sql<{ max: string }>(`SELECT max(seq)::text AS max FROM audit_logs`);
    expect(Number(max)).toBeGreaterThanOrEqual(10);
    const res = await t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/verify`).set(u.auth).expect(200);
    expect(res.body).toEqual({ valid: true, checked: expect.any(Number), first_invalid_id: null });
    expect(res.body.checked).toBeGreaterThanOrEqual(13);
  });
});
