import { jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

const API = '/api/v1';

describe('POST /authz/check', () => {
  let t: TestApp;
  let owner: GivenUser;
  let viewer: GivenUser;
  let org: { id: string };
  let foreign: { id: string };
  beforeAll(async () => {
    t = await createTestApp();
    owner = await givenUser(t);
    org = await givenOrg(t, owner);
    viewer = await givenMember(t, org, 'Viewer');
    foreign = await givenOrg(t, await givenUser(t));
  });
  afterAll(async () => {
    await t.close();
  });

  const check = (who: GivenUser, body: unknown) =>
    t
      .http()
      .post(`${API}/authz/check`)
      .set(who.auth)
      .send(body as object);

  it('answers a single check with {allowed}', async () => {
    expect((await check(viewer, { org_id: org.id, permission: 'org.read' }).expect(200)).body).toEqual({ allowed: true });
    expect((await check(viewer, { org_id: org.id, permission: 'org.update' }).expect(200)).body).toEqual({ allowed: false });
    expect((await check(owner, { org_id: org.id, permission: 'org.delete' }).expect(200)).body).toEqual({ allowed: true });
  });

  it('an org the caller is not in, or that does not exist, answers allowed: false (no existence leak)', async () => {
    expect((await check(viewer, { org_id: foreign.id, permission: 'org.read' }).expect(200)).body).toEqual({ allowed: false });
    expect((await check(viewer, { org_id: '01900000-0000-7000-8000-000000000000', permission: 'org.read' }).expect(200)).body).toEqual({
      allowed: false,
    });
  });

  it('answers a batch in order, across orgs', async () => {
    const res = await check(viewer, {
      checks: [
        { org_id: org.id, permission: 'org.read' },
        { org_id: org.id, permission: 'user.read' },
        { org_id: foreign.id, permission: 'org.read' },
        { org_id: viewer.orgId, permission: 'org.delete' },
        { org_id: org.id.toUpperCase(), permission: 'org.read' },
      ],
    }).expect(200);
    expect(res.body).toEqual({
      results: [{ allowed: true }, { allowed: false }, { allowed: false }, { allowed: true }, { allowed: true }],
    });
  });

  it('takes 100 checks, refuses 101 (400)', async () => {
    const one = { org_id: org.id, permission: 'org.read' };
    const ok = await check(viewer, { checks: Array.from({ length: 100 }, () => one) }).expect(200);
    expect(ok.body.results).toHaveLength(100);
    expect(ok.body.results.every((r: { allowed: boolean }) => r.allowed)).toBe(true);
    const res = await check(viewer, { checks: Array.from({ length: 101 }, () => one) });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'checks' })]);
  });

  it('refuses malformed requests (400)', async () => {
    const bad: unknown[] = [
      {},
      { org_id: org.id },
      { permission: 'org.read' },
      { org_id: 'nope', permission: 'org.read' },
      { org_id: org.id, permission: 'org.destroy' },
      { org_id: org.id, permission: 'org.read', user_id: owner.id },
      { org_id: org.id, permission: 'org.read', checks: [] },
      { checks: 'all' },
      { checks: [{ org_id: org.id }] },
      { checks: [{ org_id: org.id, permission: 'org.read', extra: 1 }] },
      { checks: [42] },
      { org_id: null, permission: null },
      { checks: [{ org_id: org.id, permission: 'org.read', constructor: 'x' }] },
    ];
    for (const body of bad) expectProblem(await check(viewer, body), 400, 'validation_failed');
  });

  it('needs a token', async () => {
    expectProblem(await t.http().post(`${API}/authz/check`).send({ org_id: org.id, permission: 'org.read' }), 401, 'token_invalid');
  });

  it('follows role changes and removal at once', async () => {
    const m = await givenMember(t, org, 'Member');
    const q = { org_id: org.id, permission: 'user.manage' };
    expect((await check(m, q).expect(200)).body.allowed).toBe(false);
    await t
      .http()
      .patch(`${API}/orgs/${org.id}/members/${m.id}`)
      .set(owner.auth)
      .send({ role_id: '00000000-0000-7000-8000-000000000002' })
      .expect(200);
    expect((await check(m, q).expect(200)).body.allowed).toBe(true);
    await t.http().delete(`${API}/orgs/${org.id}/members/${m.id}`).set(owner.auth).expect(204);
    expect((await check(m, { org_id: org.id, permission: 'org.read' }).expect(200)).body.allowed).toBe(false);
  });

  it('serves checks from memory: a cold org costs one read, warm checks none, however many', async () => {
    const m = await givenMember(t, org, 'Member');
    const q = { checks: Array.from({ length: 50 }, (_, i) => ({ org_id: i % 2 ? org.id : m.orgId, permission: 'org.read' })) };
    const cold = await countQueries(t, () => check(m, q).expect(200));
    expect(cold).toBeGreaterThan(0); // the membership of each org was read once...
    expect(cold).toBeLessThanOrEqual(4); // ...not once per check (50)
    const warm = await countQueries(t, async () => {
      for (let i = 0; i < 5; i++) await check(m, q).expect(200);
    });
    expect(warm).toBe(0);
  });
});

/** Statements that touch memberships or roles, sent by the app while `work` runs. */
async function countQueries(t: TestApp, work: () => Promise<unknown>): Promise<number> {
  const ds = t.app.get(DataSource);
  const runner = ds.createQueryRunner();
  const proto = Object.getPrototypeOf(runner) as { query: (sql: string, ...rest: unknown[]) => Promise<unknown> };
  await runner.release();
  const spy = jest.spyOn(proto, 'query');
  try {
    await work();
    return spy.mock.calls.filter(([sql]) => /\b(memberships|roles)\b/.test(String(sql))).length;
  } finally {
    spy.mockRestore();
  }
}
