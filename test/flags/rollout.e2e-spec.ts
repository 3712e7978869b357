import { createHash, randomUUID } from 'node:crypto';
import { newId } from '@saasready/core';
import { evaluateFlag, inRollout, rolloutBucket } from '@saasready/flags';
import { createTestApp, TestApp } from '../support/test-app';
import { givenOrg, givenUser, GivenUser } from '../support/factories';

const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';
const ADMIN_EMAIL = 'admin@example.test';
const PERCENTS = [0, 1, 5, 10, 20, 25, 50, 75, 90, 99, 100];

/** The orgs (of `ids`) for which the flag is on at `percent`. */
const enabledAt = (key: string, ids: string[], percent: number) => new Set(ids.filter((id) => inRollout(key, id, percent)));

describe('percentage rollout: the pure evaluation', () => {
  // Real org ids are UUIDv7 (time-ordered, long shared prefixes); clients may bring v4. Both must spread.
  const samples: [string, string[]][] = [
    ['UUIDv4', Array.from({ length: 10_000 }, () => randomUUID())],
    ['UUIDv7', Array.from({ length: 10_000 }, () => newId())],
  ];

  it.each(samples)('over 10,000 random %s org ids the share of enabled orgs is the percentage (±2 points)', (_kind, ids) => {
    for (const percent of PERCENTS) {
      const share = (enabledAt('beta.rollout', ids, percent).size / ids.length) * 100;
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(2);
    }
    expect(enabledAt('beta.rollout', ids, 0).size).toBe(0);
    expect(enabledAt('beta.rollout', ids, 100).size).toBe(ids.length);
  });

  it.each(samples)('monotonic over %s ids: the orgs on at p %% are a subset of those on at every higher q %%', (_kind, ids) => {
    for (let i = 1; i < PERCENTS.length; i++) {
      const lower = enabledAt('beta.rollout', ids, PERCENTS[i - 1]);
      const higher = enabledAt('beta.rollout', ids, PERCENTS[i]);
      for (const id of lower) expect(higher.has(id)).toBe(true);
    }
    // The example of the brief: on at 10 % stays on at 20 %.
    const at10 = enabledAt('beta.rollout', ids, 10);
    const at20 = enabledAt('beta.rollout', ids, 20);
    expect([...at10].every((id) => at20.has(id))).toBe(true);
    expect(at20.size).toBeGreaterThan(at10.size);
  });

  it('stable: the bucket depends only on the key and the org id (not on case of the id, time or process)', () => {
    const id = newId();
    expect(rolloutBucket('beta.rollout', id)).toBe(rolloutBucket('beta.rollout', id));
    expect(rolloutBucket('beta.rollout', id.toUpperCase())).toBe(rolloutBucket('beta.rollout', id));
    // Pinned: SHA-256("<key>:<org id>"), first 4 bytes big-endian, mod 10,000. Changing the hash moves every
    // org between on and off for every rolled-out flag: it must be a deliberate change (see libs/flags/README.md).
    const pinnedOrg = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';
    const spelledOut = createHash('sha256').update(`beta.rollout:${pinnedOrg}`).digest().readUInt32BE(0) % 10_000;
    expect(rolloutBucket('beta.rollout', pinnedOrg)).toBe(spelledOut);
    expect(rolloutBucket('beta.rollout', pinnedOrg)).toBe(6943);
    expect(inRollout('beta.rollout', pinnedOrg, 69)).toBe(false);
    expect(inRollout('beta.rollout', pinnedOrg, 70)).toBe(true);
  });

  it('the key is part of the hash: two flags at 50 % pick independent halves', () => {
    const ids = samples[0][1];
    const a = enabledAt('flag.one', ids, 50);
    const b = enabledAt('flag.two', ids, 50);
    const both = ids.filter((id) => a.has(id) && b.has(id)).length;
    expect(Math.abs((both / ids.length) * 100 - 25)).toBeLessThanOrEqual(2);
  });

  it('evaluateFlag: override > rollout > default, unknown key off', () => {
    const org = newId();
    const on = { defaultEnabled: true, rolloutPercent: null };
    expect(evaluateFlag('k', org, null, null)).toEqual({ enabled: false, source: 'default' });
    expect(evaluateFlag('k', org, on, null)).toEqual({ enabled: true, source: 'default' });
    expect(evaluateFlag('k', org, { defaultEnabled: true, rolloutPercent: 0 }, null)).toEqual({ enabled: false, source: 'rollout' });
    expect(evaluateFlag('k', org, { defaultEnabled: false, rolloutPercent: 100 }, null)).toEqual({ enabled: true, source: 'rollout' });
    expect(evaluateFlag('k', org, { defaultEnabled: false, rolloutPercent: 100 }, { enabled: false })).toEqual({
      enabled: false,
      source: 'org',
    });
    expect(evaluateFlag('k', org, null, { enabled: true })).toEqual({ enabled: true, source: 'org' });
  });
});

describe('percentage rollout through the API, on real organizations', () => {
  let t: TestApp;
  let admin: GivenUser;
  let owner: GivenUser;
  let orgIds: string[];
  beforeAll(async () => {
    t = await createTestApp({ env: { INSTANCE_ADMIN_EMAILS: ADMIN_EMAIL } });
    admin = await givenUser(t, { email: ADMIN_EMAIL });
    owner = await givenUser(t);
    orgIds = [owner.orgId];
    for (let i = 0; i < 15; i++) orgIds.push((await givenOrg(t, owner)).id);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  });

  /** The orgs the API says are on, each with source rollout. */
  async function enabledThroughApi(key: string): Promise<Set<string>> {
    const on = new Set<string>();
    for (const id of orgIds) {
      const res = await t.http().get(`${API}/orgs/${id}/feature-flags/${key}`).set(owner.auth).expect(200);
      expect(res.body.source).toBe('rollout');
      if (res.body.enabled) on.add(id);
    }
    return on;
  }

  it('each org is on exactly when the pure function says so, and raising the percentage only adds orgs', async () => {
    const key = 'rollout.real';
    let previous = new Set<string>();
    for (const percent of [0, 10, 20, 50, 80, 100]) {
      await t
        .http()
        .put(`${API}/feature-flags/${key}`)
        .set(admin.auth)
        .send({ default_enabled: false, rollout_percent: percent })
        .expect(200);
      const on = await enabledThroughApi(key);
      expect([...on].sort()).toEqual([...enabledAt(key, orgIds, percent)].sort());
      for (const id of previous) expect(on.has(id)).toBe(true);
      previous = on;
    }
    expect(previous.size).toBe(orgIds.length);
  });

  it('lowering the percentage back gives the same orgs as before (stable across changes)', async () => {
    const key = 'rollout.back';
    const put = (percent: number) =>
      t.http().put(`${API}/feature-flags/${key}`).set(admin.auth).send({ default_enabled: true, rollout_percent: percent }).expect(200);
    await put(50);
    const first = await enabledThroughApi(key);
    await put(90);
    await put(50);
    expect(await enabledThroughApi(key)).toEqual(first);
  });
});
