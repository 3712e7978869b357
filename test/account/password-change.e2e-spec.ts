import { EmailTokenKind, EmailTokenService } from '@saasready/auth';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenUser, GivenUser, login } from '../support/factories';

/** Booting an app (the embedded database, migrations) on busy shared cores can take a while. */
const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';
const NEW_PASSWORD = 'amber-falcon-quarry-58';
const THRESHOLD = 3;

interface Row {
  org_id: string | null;
  actor_id: string | null;
  user_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  metadata: Record<string, unknown>;
}

const sidOf = (accessToken: string): string => JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')).sid;

/** POST /auth/password/change (API.md "Auth and account"). */
describe('POST /auth/password/change', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: String(THRESHOLD), LOCKOUT_BASE: '1m' } });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  }, BOOT_TIMEOUT);

  const change = (auth: { Authorization: string }, body: Record<string, unknown>) =>
    t.http().post(`${API}/auth/password/change`).set(auth).send(body);
  const me = (auth: { Authorization: string }) => t.http().get(`${API}/auth/me`).set(auth);
  const tryLogin = (email: string, password: string) => t.http().post(`${API}/auth/login`).send({ email, password });
  const rowsAbout = (userId: string, action: string) =>
    t.sql<Row>(
      `SELECT org_id, actor_id, user_email, action, target_type, target_id, metadata FROM audit_logs
        WHERE (actor_id = $1 OR target_id = $1::text) AND action = $2 ORDER BY seq`,
      [userId, action],
    );

  it('changes the password: the old one is refused, the new one works', async () => {
    const u = await givenUser(t);
    await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD }).expect(204);
    expectProblem(await tryLogin(u.email, u.password), 401, 'invalid_credentials');
    await login(t, u.email, NEW_PASSWORD);
  });

  it('ends every other session (401 session_revoked, refresh too); the calling session goes on', async () => {
    const u = await givenUser(t);
    const other = await login(t, u.email);
    const third = await login(t, u.email);
    await me(other.auth).expect(200); // warm the session cache: the revocation must reach it
    await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD }).expect(204);
    expectProblem(await me(other.auth), 401, 'session_revoked');
    expectProblem(await me(third.auth), 401, 'session_revoked');
    expectProblem(await t.http().post(`${API}/auth/refresh`).send({ refresh_token: other.refreshToken }), 401, 'session_revoked');
    await me(u.auth).expect(200);
    await t.http().post(`${API}/auth/refresh`).send({ refresh_token: u.refreshToken }).expect(200);
  });

  it('writes one user.password_changed row and one session.revoked row per other session, no secrets', async () => {
    const u = await givenUser(t);
    const other = await login(t, u.email);
    await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD }).expect(204);
    const [changed, ...more] = await rowsAbout(u.id, 'user.password_changed');
    expect(more).toHaveLength(0);
    expect(changed).toMatchObject({
      actor_id: u.id,
      user_email: u.email,
      org_id: u.orgId, // the session's current org
      target_type: 'user',
      target_id: u.id,
      metadata: { other_sessions_ended: 1 },
    });
    const revoked = await rowsAbout(u.id, 'session.revoked');
    expect(revoked).toEqual([
      expect.objectContaining({
        actor_id: u.id,
        org_id: u.orgId,
        target_type: 'session',
        target_id: sidOf(other.accessToken),
        metadata: { reason: 'password_changed' },
      }),
    ]);
    const all = JSON.stringify(await t.sql(`SELECT * FROM audit_logs WHERE actor_id = $1`, [u.id]));
    expect(all).not.toContain(u.password);
    expect(all).not.toContain(NEW_PASSWORD);
  });

  it('a wrong current password is 403 reauthentication_failed: nothing changes, no audit row, no session ends', async () => {
    const u = await givenUser(t);
    const other = await login(t, u.email);
    expectProblem(
      await change(u.auth, { current_password: 'not-my-password-1', new_password: NEW_PASSWORD }),
      403,
      'reauthentication_failed',
    );
    await login(t, u.email, u.password); // also clears the failure count for the next tests
    expectProblem(await tryLogin(u.email, NEW_PASSWORD), 401, 'invalid_credentials');
    await me(other.auth).expect(200);
    expect(await rowsAbout(u.id, 'user.password_changed')).toHaveLength(0);
    expect(await rowsAbout(u.id, 'session.revoked')).toHaveLength(0);
  });

  it('the new password follows the password rules: 400 password_too_weak / validation_failed, nothing changes', async () => {
    const u = await givenUser(t);
    const weak = await change(u.auth, { current_password: u.password, new_password: 'password123' });
    expectProblem(weak, 400, 'password_too_weak');
    expect(weak.body.errors).toEqual([expect.objectContaining({ field: 'new_password' })]);
    expectProblem(await change(u.auth, { current_password: u.password, new_password: 'short' }), 400, 'validation_failed');
    expectProblem(await change(u.auth, { current_password: u.password, new_password: 'x'.repeat(129) }), 400, 'validation_failed');
    expectProblem(await change(u.auth, { current_password: u.password }), 400, 'validation_failed');
    expectProblem(
      await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD, user_id: u.id }),
      400,
      'validation_failed',
    );
    await login(t, u.email, u.password);
    expect(await rowsAbout(u.id, 'user.password_changed')).toHaveLength(0);
  });

  it('needs a live session (401)', async () => {
    expectProblem(
      await t.http().post(`${API}/auth/password/change`).send({ current_password: 'a', new_password: NEW_PASSWORD }),
      401,
      'token_invalid',
    );
    const u = await givenUser(t);
    await t.http().post(`${API}/auth/logout`).set(u.auth).expect(204);
    expectProblem(await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD }), 401, 'session_revoked');
  });

  describe('lockout', () => {
    async function lockOut(u: GivenUser): Promise<void> {
      for (let i = 0; i < THRESHOLD; i++) {
        expectProblem(
          await change(u.auth, { current_password: `wrong-guess-${i}-x`, new_password: NEW_PASSWORD }),
          403,
          'reauthentication_failed',
        );
      }
    }

    it('wrong current passwords count toward the account lockout (keyed by the email), as failed logins do', async () => {
      const u = await givenUser(t);
      await lockOut(u);
      // Locked: the right password gets the same 429, here and at login.
      const locked = await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD });
      expectProblem(locked, 429, 'account_locked');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expectProblem(await tryLogin(u.email.toUpperCase(), u.password), 429, 'account_locked');
      // Never permanent.
      t.clock.advance(61_000);
      await change(u.auth, { current_password: u.password, new_password: NEW_PASSWORD }).expect(204);
    });

    it('a password reset clears the lockout (API.md: "a password reset clears it")', async () => {
      const u = await givenUser(t);
      await lockOut(u);
      expectProblem(await tryLogin(u.email, u.password), 429, 'account_locked');
      const { token } = await t.app.get(EmailTokenService).issue(u.id, EmailTokenKind.PasswordReset);
      await t.http().post(`${API}/auth/password/reset`).send({ token, new_password: NEW_PASSWORD }).expect(204);
      await login(t, u.email, NEW_PASSWORD);
    });
  });
});
