import { FlagsService } from '@saasready/flags';
import { describeWithRedis } from '../support/env';
import { givenOrg, givenUser, GivenUser } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';
const ADMIN_EMAIL = 'admin@example.test';
const ENV = { INSTANCE_ADMIN_EMAILS: ADMIN_EMAIL };

/** Polls until `check` passes or the deadline: pub/sub delivery between instances is asynchronous. */
async function eventually(check: () => Promise<void>, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describeWithRedis('feature flag changes on one API instance reach the cache of another (Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: GivenUser;
  let owner: GivenUser;
  let org: { id: string };

  const onB = async (key: string) =>
    (await b.http().get(`${API}/orgs/${org.id}/feature-flags/${key}`).set(owner.auth).expect(200)).body as {
      enabled: boolean;
      source: string;
    };

  beforeAll(async () => {
    a = await createTestApp({ redis: true, env: ENV });
    b = await createTestApp({ redis: true, env: ENV, shareDatabaseWith: a });
    admin = await givenUser(a, { email: ADMIN_EMAIL });
    owner = await givenUser(a);
    org = await givenOrg(a, owner);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a definition changed on A is seen on B, whose cache held the old one', async () => {
    const key = 'cross.definition';
    await a.http().put(`${API}/feature-flags/${key}`).set(admin.auth).send({ default_enabled: false }).expect(200);
    await eventually(async () => expect(await onB(key)).toMatchObject({ enabled: false, source: 'default' }));
    // B now serves the flag from memory: prove it (a change behind both services is not seen) ...
    await a.sql(`UPDATE feature_flags SET default_enabled = true WHERE key = $1`, [key]);
    expect(await onB(key)).toMatchObject({ enabled: false });
    // ... then change it through A: B's next evaluations follow.
    await a.http().put(`${API}/feature-flags/${key}`).set(admin.auth).send({ default_enabled: false, rollout_percent: 100 }).expect(200);
    await eventually(async () => expect(await onB(key)).toMatchObject({ enabled: true, source: 'rollout' }));
    expect(await b.app.get(FlagsService).isEnabled(org.id, key)).toBe(true);
  });

  it('an org override set and removed on A is seen on B', async () => {
    const key = 'cross.override';
    await a.http().put(`${API}/feature-flags/${key}`).set(admin.auth).send({ default_enabled: true }).expect(200);
    await eventually(async () => expect(await onB(key)).toMatchObject({ enabled: true, source: 'default' }));

    await a.http().put(`${API}/orgs/${org.id}/feature-flags/${key}`).set(owner.auth).send({ enabled: false }).expect(200);
    await eventually(async () => expect(await onB(key)).toMatchObject({ enabled: false, source: 'org' }));

    await a.http().delete(`${API}/orgs/${org.id}/feature-flags/${key}`).set(owner.auth).expect(204);
    await eventually(async () => expect(await onB(key)).toMatchObject({ enabled: true, source: 'default' }));
  });

  it('a change on B reaches A too', async () => {
    const key = 'cross.reverse';
    const onA = async () => (await a.http().get(`${API}/orgs/${org.id}/feature-flags/${key}`).set(owner.auth).expect(200)).body;
    expect(await onA()).toMatchObject({ enabled: false, source: 'default' });
    await b.http().put(`${API}/orgs/${org.id}/feature-flags/${key}`).set(owner.auth).send({ enabled: true }).expect(200);
    await eventually(async () => expect(await onA()).toMatchObject({ enabled: true, source: 'org' }));
  });
});
