import Redis from 'ioredis';
import { describeWithRedis, TEST_REDIS_URL } from '../support/env';
import { expectProblem, givenUser, uniqueEmail } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

const API = '/api/v1';

describe('account lockout against password guessing', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Addresses come from X-Forwarded-For here, so "many addresses" can be simulated.
    t = await createTestApp({ env: { TRUST_PROXY: 'true', LOCKOUT_THRESHOLD: '5', LOCKOUT_BASE: '1m', LOCKOUT_MAX: '15m' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const attempt = (email: string, password: string, ip = '198.51.100.7') =>
    t.http().post(`${API}/auth/login`).set('X-Forwarded-For', ip).send({ email, password });

  it('locks after 5 failures from many addresses; right and wrong passwords then get the same 429', async () => {
    const u = await givenUser(t);
    for (let i = 0; i < 4; i++)
      expectProblem(await attempt(u.email, `wrong-${i}-password`, `203.0.113.${i + 1}`), 401, 'invalid_credentials');
    expectProblem(await attempt(u.email, 'wrong-4-password', '203.0.113.9'), 401, 'invalid_credentials');
    const wrong = await attempt(u.email, 'wrong-5-password', '203.0.113.10');
    const right = await attempt(u.email, u.password, '192.0.2.44');
    expectProblem(wrong, 429, 'account_locked');
    expectProblem(right, 429, 'account_locked');
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(right.body)).toEqual(strip(wrong.body));
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(right.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('releases after the delay (on the clock), and the next lock lasts longer', async () => {
    const u = await givenUser(t);
    for (let i = 0; i < 5; i++) await attempt(u.email, `wrong-${i}-password`);
    expectProblem(await attempt(u.email, u.password), 429, 'account_locked');
    t.clock.advance(61_000);
    for (let i = 0; i < 5; i++) expectProblem(await attempt(u.email, `again-${i}-password`), 401, 'invalid_credentials');
    const second = await attempt(u.email, u.password);
    expectProblem(second, 429, 'account_locked');
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(60); // doubled: 2 min
    t.clock.advance(121_000);
    await attempt(u.email, u.password).expect(200);
  });

  it('a success resets the count of consecutive failures', async () => {
    const u = await givenUser(t);
    for (let i = 0; i < 4; i++) await attempt(u.email, `wrong-${i}-password`);
    await attempt(u.email, u.password).expect(200);
    for (let i = 0; i < 4; i++) expectProblem(await attempt(u.email, `wrong-${i}-password`), 401, 'invalid_credentials');
    await attempt(u.email, u.password).expect(200);
  });

  it('unknown emails behave exactly like known ones (no enumeration through the lockout)', async () => {
    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 5; i++) expectProblem(await attempt(ghost, `wrong-${i}-password`), 401, 'invalid_credentials');
    expectProblem(await attempt(ghost, 'wrong-password-x'), 429, 'account_locked');
  });

  it('the delay never exceeds LOCKOUT_MAX (never permanent)', async () => {
    const u = await givenUser(t);
    let retry = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5; i++) await attempt(u.email, `w-${round}-${i}-password`);
      const res = await attempt(u.email, u.password);
      expectProblem(res, 429, 'account_locked');
      retry = Number(res.headers['retry-after']);
      expect(retry).toBeLessThanOrEqual(15 * 60);
      t.clock.advance(retry * 1000 + 1000);
    }
    expect(retry).toBe(15 * 60);
    await attempt(u.email, u.password).expect(200);
  });
});

describe('per-address rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_LOGIN: '3/1m', RATE_LIMIT_REGISTER: '2/1m' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('limits logins per client address; a rotating X-Forwarded-For gains nothing without a trusted proxy', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t
        .http()
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', `10.0.0.${i}`)
        .send({ email: uniqueEmail(), password: 'whatever-pass' });
      expect(res.status).toBe(401);
    }
    const limited = await t
      .http()
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '10.9.9.9')
      .send({ email: uniqueEmail(), password: 'whatever-pass' });
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits registrations per address', async () => {
    const register = () =>
      t.http().post(`${API}/auth/register`).send({ email: uniqueEmail(), password: 'violet-otter-harbor-42', full_name: 'R' });
    await register().expect(201);
    await register().expect(201);
    expectProblem(await register(), 429, 'rate_limited');
  });
});

describeWithRedis('rate limits and lockouts are shared by API instances on one Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Counters of an earlier run of this suite (same address, same window) must not count here.
    const redis = new Redis(TEST_REDIS_URL!);
    const stale = await redis.keys('saasready:ratelimit:refresh:*');
    if (stale.length) await redis.del(...stale);
    redis.disconnect();
    const env = { RATE_LIMIT_REFRESH: '4/1m' };
    a = await createTestApp({ redis: true, env });
    b = await createTestApp({ redis: true, env, shareDatabaseWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a limit counts the hits on both instances', async () => {
    // Refresh tokens that do not exist: each attempt is a 401, the fifth over both instances a 429.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await (i % 2 ? a : b)
            .http()
            .post(`${API}/auth/refresh`)
            .send({ refresh_token: `nope-${i}` })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401]);
    expectProblem(await a.http().post(`${API}/auth/refresh`).send({ refresh_token: 'nope-x' }), 429, 'rate_limited');
    expectProblem(await b.http().post(`${API}/auth/refresh`).send({ refresh_token: 'nope-y' }), 429, 'rate_limited');
  });

  it('an account locked through one instance is locked on the other', async () => {
    const u = await givenUser(a);
    for (let i = 0; i < 5; i++)
      await (i % 2 ? a : b)
        .http()
        .post(`${API}/auth/login`)
        .send({ email: u.email, password: `wrong-${i}-password` });
    expectProblem(await b.http().post(`${API}/auth/login`).send({ email: u.email, password: u.password }), 429, 'account_locked');
    expectProblem(await a.http().post(`${API}/auth/login`).send({ email: u.email, password: u.password }), 429, 'account_locked');
  });
});
