import { TwoFactorService } from '@saasready/auth';
import { bearer, expectProblem, givenUser, GivenUser } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

const API = '/api/v1';

describe('TOTP two-factor login', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Lockout has its own suite; here a few failed codes in a row must not lock the account.
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '10' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const code = (secret: string, offsetMs = 0) => TwoFactorService.codeFor(secret, t.clock.nowMs() + offsetMs);
  const login = (u: GivenUser, two_factor_code?: string) =>
    t
      .http()
      .post(`${API}/auth/login`)
      .send({ email: u.email, password: u.password, ...(two_factor_code === undefined ? {} : { two_factor_code }) });

  /** A user with 2FA turned on; returns the secret and backup codes. */
  async function withTwoFactor(): Promise<{ u: GivenUser; secret: string; backup: string[] }> {
    const u = await givenUser(t);
    const setup = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    await t
      .http()
      .post(`${API}/auth/2fa/verify`)
      .set(u.auth)
      .send({ code: code(setup.body.secret) })
      .expect(200, { two_factor_enabled: true });
    t.clock.advance(30_000); // the verify code's step is spent
    return { u, secret: setup.body.secret, backup: setup.body.backup_codes };
  }

  it('set-up returns a 160-bit secret, an otpauth URL, a PNG QR code and 10 backup codes, with no-store', async () => {
    const u = await givenUser(t);
    const res = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32,}$/);
    expect(res.body.otpauth_url).toMatch(/^otpauth:\/\/totp\/.*secret=.*issuer=SaaSReady/);
    expect(res.body.qr_code_url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
    expect(res.body.backup_codes).toHaveLength(10);
    expect(new Set(res.body.backup_codes).size).toBe(10);
    // Not on until verified; login needs no code.
    await login(u).expect(200);
    const me = await t.http().get(`${API}/auth/me`).set(u.auth).expect(200);
    expect(me.body.two_factor_enabled).toBe(false);
  });

  it('stores the secret encrypted, never in plain text', async () => {
    const u = await givenUser(t);
    const res = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    const [row] = await t.sql<{ two_factor_pending_secret: string }>(`SELECT two_factor_pending_secret FROM users WHERE id = $1`, [u.id]);
    expect(row.two_factor_pending_secret).toBeTruthy();
    expect(row.two_factor_pending_secret).not.toContain(res.body.secret);
    const codes = await t.sql<{ code_hash: string }>(`SELECT code_hash FROM two_factor_backup_codes WHERE user_id = $1`, [u.id]);
    expect(codes).toHaveLength(10);
    for (const c of res.body.backup_codes as string[]) expect(codes.map((r) => r.code_hash)).not.toContain(c);
  });

  it('a new set-up replaces a pending one (the old secret no longer verifies)', async () => {
    const u = await givenUser(t);
    const first = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    const second = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    expect(second.body.secret).not.toBe(first.body.secret);
    expectProblem(
      await t
        .http()
        .post(`${API}/auth/2fa/verify`)
        .set(u.auth)
        .send({ code: code(first.body.secret) }),
      400,
      'invalid_two_factor_code',
    );
    await t
      .http()
      .post(`${API}/auth/2fa/verify`)
      .set(u.auth)
      .send({ code: code(second.body.secret) })
      .expect(200);
  });

  it('verify with a wrong code is 400 and leaves 2FA off', async () => {
    const u = await givenUser(t);
    await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    expectProblem(await t.http().post(`${API}/auth/2fa/verify`).set(u.auth).send({ code: '000000' }), 400, 'invalid_two_factor_code');
    await login(u).expect(200);
  });

  it('turning 2FA on ends the other sessions and shows in /auth/me', async () => {
    const u = await givenUser(t);
    const other = await login(u).expect(200);
    const setup = await t.http().post(`${API}/auth/2fa/setup`).set(u.auth).expect(200);
    await t
      .http()
      .post(`${API}/auth/2fa/verify`)
      .set(u.auth)
      .send({ code: code(setup.body.secret) })
      .expect(200);
    expectProblem(await t.http().get(`${API}/auth/me`).set(bearer(other.body.access_token)), 401, 'session_revoked');
    const me = await t.http().get(`${API}/auth/me`).set(u.auth).expect(200);
    expect(me.body.two_factor_enabled).toBe(true);
  });

  it('login needs the code once 2FA is on; a current TOTP code signs in', async () => {
    const { u, secret } = await withTwoFactor();
    expectProblem(await login(u), 401, 'two_factor_required');
    expectProblem(await login(u, '123456'), 401, 'invalid_two_factor_code');
    await login(u, code(secret)).expect(200);
  });

  it('a TOTP code is accepted once (replay refused), also under concurrency', async () => {
    const { u, secret } = await withTwoFactor();
    const c = code(secret);
    const results = await Promise.all(Array.from({ length: 5 }, () => login(u, c)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expectProblem(await login(u, c), 401, 'invalid_two_factor_code');
    // An older step than the last accepted one is refused too.
    expectProblem(await login(u, code(secret, -30_000)), 401, 'invalid_two_factor_code');
  });

  it('accepts the adjacent step but not a code two steps away', async () => {
    const { u, secret } = await withTwoFactor();
    expectProblem(await login(u, code(secret, 60_000)), 401, 'invalid_two_factor_code');
    await login(u, code(secret, 30_000)).expect(200);
  });

  it('a backup code works once', async () => {
    const { u, backup } = await withTwoFactor();
    await login(u, backup[0]).expect(200);
    expectProblem(await login(u, backup[0]), 401, 'invalid_two_factor_code');
    await login(u, backup[1].toUpperCase()).expect(200);
  });

  it('new backup codes need a current code and void the old ones', async () => {
    const { u, secret, backup } = await withTwoFactor();
    const session = await login(u, code(secret));
    t.clock.advance(30_000);
    expectProblem(
      await t.http().post(`${API}/auth/2fa/backup-codes`).set(bearer(session.body.access_token)).send({ code: '000000' }),
      403,
      'reauthentication_failed',
    );
    const fresh = await t
      .http()
      .post(`${API}/auth/2fa/backup-codes`)
      .set(bearer(session.body.access_token))
      .send({ code: code(secret) })
      .expect(200);
    expect(fresh.body.backup_codes).toHaveLength(10);
    expectProblem(await login(u, backup[2]), 401, 'invalid_two_factor_code');
    await login(u, fresh.body.backup_codes[0]).expect(200);
  });

  it('disabling needs the password and a current code', async () => {
    const { u, secret } = await withTwoFactor();
    const session = await login(u, code(secret));
    const auth = bearer(session.body.access_token);
    t.clock.advance(30_000);
    expectProblem(
      await t
        .http()
        .post(`${API}/auth/2fa/disable`)
        .set(auth)
        .send({ password: 'wrong-password-1', code: code(secret) }),
      403,
      'reauthentication_failed',
    );
    expectProblem(
      await t.http().post(`${API}/auth/2fa/disable`).set(auth).send({ password: u.password, code: '000000' }),
      403,
      'reauthentication_failed',
    );
    await t
      .http()
      .post(`${API}/auth/2fa/disable`)
      .set(auth)
      .send({ password: u.password, code: code(secret) })
      .expect(204);
    await login(u).expect(200);
  });

  it('set-up while 2FA is on is refused (disable first)', async () => {
    const { u, secret } = await withTwoFactor();
    const session = await login(u, code(secret));
    expectProblem(await t.http().post(`${API}/auth/2fa/setup`).set(bearer(session.body.access_token)), 409, 'two_factor_already_enabled');
  });

  it('every 2FA route needs a signed-in user', async () => {
    for (const path of ['setup', 'verify', 'disable', 'backup-codes']) {
      expectProblem(await t.http().post(`${API}/auth/2fa/${path}`).send({}), 401, 'token_invalid');
    }
  });
});
