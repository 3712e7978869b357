import { KeyService } from '@saasready/auth';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, decodeJwt, expectProblem, givenUser, login } from '../support/factories';

const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '0/1m', RATE_LIMIT_REGISTER: '0/1m', RATE_LIMIT_REFRESH: '0/1m' };

/** Signing-key rotation: old tokens keep working until they expire, the JWKS follows. The clock moves. */
describe('auth: signing-key rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
  });
  afterAll(async () => {
    await t.close();
  });

  const kids = async () => ((await t.http().get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[]).map((k) => k.kid);
  const me = (token: string) => t.http().get('/api/v1/auth/me').set(bearer(token));

  it('rotate(): old tokens still verify, both keys are published, new tokens carry the new kid; the old key leaves after one access-token lifetime', async () => {
    const u = await givenUser(t);
    const oldKid = decodeJwt(u.accessToken).header.kid;
    expect(await kids()).toEqual([oldKid]);
    const stored = await t.sql<{ private_key_encrypted: string }>('SELECT private_key_encrypted FROM signing_keys');
    expect(stored).toHaveLength(1);
    expect(stored[0].private_key_encrypted).toMatch(/^v1\./); // sealed with ENCRYPTION_KEY
    expect(stored[0].private_key_encrypted).not.toContain('PRIVATE KEY');

    const newKid = await t.app.get(KeyService).rotate();
    expect(newKid).not.toBe(oldKid);

    // tokens signed before the rotation still work
    await me(u.accessToken).expect(200);
    // the JWKS lists both
    expect((await kids()).sort()).toEqual([oldKid, newKid].sort());
    // new tokens (login, refresh) carry the new kid
    const fresh = await login(t, u.email, u.password);
    expect(decodeJwt(fresh.accessToken).header.kid).toBe(newKid);
    await me(fresh.accessToken).expect(200);
    const refreshed = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: u.refreshToken }).expect(200);
    expect(decodeJwt(refreshed.body.access_token).header.kid).toBe(newKid);

    // just before the old key's last tokens expire it is still published
    t.clock.advance(t.config.accessTokenTtlMs - 1000);
    expect(await kids()).toContain(oldKid);
    await me(u.accessToken).expect(200);

    // past one access-token lifetime after the rotation it is gone, and tokens signed with it are refused
    t.clock.advance(2000);
    expect(await kids()).toEqual([newKid]);
    expectProblem(await me(u.accessToken), 401, 'token_invalid');
    await me(fresh.accessToken).expect(200);
    const later = await login(t, u.email, u.password);
    expect(decodeJwt(later.accessToken).header.kid).toBe(newKid);
  });
});
