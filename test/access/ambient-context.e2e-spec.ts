import { RequestContext } from '@saasready/core';
import { createTestApp, TestApp } from '../support/test-app';
import { givenOrg, givenUser, GivenUser } from '../support/factories';

const API = '/api/v1';

/**
 * Read handlers run without the ambient (AsyncLocalStorage) context, handlers that may write run with it
 * (docs/DEVELOPING.md). Under concurrent reads and audited writes, every write's audit row carries its own
 * caller, user agent and request, nothing leaks from one request to another, and no run is left in flight.
 */
describe('request context: ambient for writes, on the request for reads', () => {
  let t: TestApp;
  let alice: GivenUser;
  let bob: GivenUser;
  let orgA: { id: string };
  let orgB: { id: string };
  beforeAll(async () => {
    t = await createTestApp();
    [alice, bob] = await Promise.all([givenUser(t), givenUser(t)]);
    [orgA, orgB] = await Promise.all([givenOrg(t, alice), givenOrg(t, bob)]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('attributes each concurrent write to its own caller while reads run beside them', async () => {
    const writes = Array.from({ length: 12 }, (_, i) => {
      const [who, org] = i % 2 === 0 ? [alice, orgA] : [bob, orgB];
      return t
        .http()
        .patch(`${API}/orgs/${org.id}`)
        .set(who.auth)
        .set('User-Agent', `agent-${i}`)
        .set('X-Request-Id', `ambient-${i}`)
        .send({ name: `Renamed ${i}` })
        .expect(200);
    });
    const reads = Array.from({ length: 24 }, (_, i) => {
      const [who, org] = i % 2 === 0 ? [alice, orgA] : [bob, orgB];
      return t
        .http()
        .get(i % 3 === 0 ? `${API}/auth/me` : `${API}/orgs/${org.id}`)
        .set(who.auth)
        .expect(200);
    });
    const checks = Array.from({ length: 6 }, (_, i) =>
      t
        .http()
        .post(`${API}/authz/check`)
        .set(alice.auth)
        .send({ org_id: i % 2 === 0 ? orgA.id : orgB.id, permission: 'org.read' })
        .expect(200)
        .then((r) => expect(r.body).toEqual({ allowed: i % 2 === 0 })),
    );
    // A write whose audit row the service writes (not @Audit): it reads the caller's client from the ambient context.
    const flagWrites = Array.from({ length: 6 }, (_, i) => {
      const [who, org] = i % 2 === 0 ? [alice, orgA] : [bob, orgB];
      return t
        .http()
        .put(`${API}/orgs/${org.id}/feature-flags/ambient.flag${i}`)
        .set(who.auth)
        .set('User-Agent', `flag-agent-${i}`)
        .send({ enabled: true })
        .expect(200);
    });
    await Promise.all([...writes, ...reads, ...checks, ...flagWrites]);

    const rows = await t.sql<{ org_id: string; actor_id: string; user_agent: string; metadata: { name?: { new?: string } } }>(
      `SELECT org_id, actor_id, user_agent, metadata FROM audit_logs WHERE action = 'org.updated' AND org_id = ANY($1)`,
      [[orgA.id, orgB.id]],
    );
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      const i = Number(row.user_agent.replace('agent-', ''));
      expect(row.actor_id).toBe(i % 2 === 0 ? alice.id : bob.id);
      expect(row.org_id).toBe(i % 2 === 0 ? orgA.id : orgB.id);
      expect(JSON.stringify(row.metadata)).toContain(`Renamed ${i}`);
    }
    const flagRows = await t.sql<{ org_id: string; actor_id: string; user_agent: string; target_id: string }>(
      `SELECT org_id, actor_id, user_agent, target_id FROM audit_logs WHERE action = 'flag.updated' AND org_id = ANY($1)`,
      [[orgA.id, orgB.id]],
    );
    expect(flagRows).toHaveLength(6);
    for (const row of flagRows) {
      const i = Number(row.target_id.replace('ambient.flag', ''));
      expect(row.user_agent).toBe(`flag-agent-${i}`);
      expect(row.actor_id).toBe(i % 2 === 0 ? alice.id : bob.id);
      expect(row.org_id).toBe(i % 2 === 0 ? orgA.id : orgB.id);
    }
    expect(RequestContext.activeRuns()).toBe(0);
    expect(RequestContext.current()).toBeUndefined();
  });
});
