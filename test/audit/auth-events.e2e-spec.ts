import speakeasy from 'speakeasy';
import { EmailTokenKind, EmailTokenService, TwoFactorService } from '@saasready/auth';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, expectProblem, givenUser, GOOD_PASSWORD, login, uniqueEmail } from '../support/factories';

/** Generous per-address limits: this suite signs in many times from one address. */
/** Booting an app (the embedded database, migrations) on busy shared cores can take a while. */
const BOOT_TIMEOUT = 180_000;
const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '10000/1m', RATE_LIMIT_REGISTER: '10000/1m', RATE_LIMIT_REFRESH: '10000/1m' };
const UA = 'audit-e2e/1.0 (+https://saasready.test)';

interface Row {
  id: string;
  org_id: string | null;
  actor_id: string | null;
  user_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown>;
}

/** Rows about one user: as actor, or as target. */
async function rowsAbout(t: TestApp, userId: string, action?: string): Promise<Row[]> {
  return t.sql<Row>(
    `SELECT id, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata
       FROM audit_logs WHERE (actor_id = $1 OR target_id = $1::text) AND ($2::text IS NULL OR action = $2) ORDER BY seq`,
    [userId, action ?? null],
  );
}

async function rowsFor(t: TestApp, action: string, where: { email?: string; targetId?: string }): Promise<Row[]> {
  return t.sql<Row>(
    `SELECT id, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata
       FROM audit_logs WHERE action = $1 AND ($2::text IS NULL OR lower(user_email) = lower($2)) AND ($3::text IS NULL OR target_id = $3)
       ORDER BY seq`,
    [action, where.email ?? null, where.targetId ?? null],
  );
}

/** No secret of the test (password, tokens) anywhere in the row. */
function expectNoSecrets(row: Row, secrets: string[]): void {
  const text = JSON.stringify(row);
  for (const s of secrets) expect(text).not.toContain(s);
}

const LOOPBACK = /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/;

async function sessionIdOf(t: TestApp, accessToken: string): Promise<string> {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8'));
  return payload.sid;
}

describe('audit: auth events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  }, BOOT_TIMEOUT);

  it('register writes one user.registered row with actor, org, ip, user agent and no secrets', async () => {
    const email = uniqueEmail('reg');
    const res = await t
      .http()
      .post('/api/v1/auth/register')
      .set('User-Agent', UA)
      .send({ email, password: GOOD_PASSWORD, full_name: 'Ada Audit' })
      .expect(201);
    const rows = await rowsAbout(t, res.body.user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'user.registered',
      actor_id: res.body.user.id,
      user_email: email,
      org_id: res.body.organization.id,
      target_type: 'user',
      target_id: res.body.user.id,
      user_agent: UA,
    });
    expect(rows[0].ip_address).toMatch(LOOPBACK);
    expectNoSecrets(rows[0], [GOOD_PASSWORD, res.body.access_token, res.body.refresh_token]);
  });

  it('login writes one user.logged_in row scoped to the new session org', async () => {
    const u = await givenUser(t);
    const res = await t.http().post('/api/v1/auth/login').set('User-Agent', UA).send({ email: u.email, password: u.password }).expect(200);
    const rows = await rowsAbout(t, u.id, 'user.logged_in');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: u.id,
      user_email: u.email,
      org_id: u.orgId,
      target_type: 'user',
      target_id: u.id,
      user_agent: UA,
    });
    expect(rows[0].ip_address).toMatch(LOOPBACK);
    expect(rows[0].metadata).toMatchObject({ session_id: await sessionIdOf(t, res.body.access_token) });
    expectNoSecrets(rows[0], [u.password, res.body.access_token, res.body.refresh_token]);
  });

  it('a wrong password writes one user.login_failed row (reason invalid_password) in its own transaction', async () => {
    const u = await givenUser(t);
    const wrong = 'wrong-password-that-must-not-leak';
    const res = await t.http().post('/api/v1/auth/login').set('User-Agent', UA).send({ email: u.email, password: wrong });
    expectProblem(res, 401, 'invalid_credentials');
    const rows = await rowsAbout(t, u.id, 'user.login_failed');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: null, // nobody signed in: the attempt is anonymous
      user_email: u.email,
      org_id: u.orgId, // the org a new session of this user would be scoped to
      target_type: 'user',
      target_id: u.id,
      user_agent: UA,
      metadata: { reason: 'invalid_password' },
    });
    expect(rows[0].ip_address).toMatch(LOOPBACK);
    expectNoSecrets(rows[0], [wrong, u.password]);
  });

  it('an unknown email writes one user.login_failed row with no org and no target', async () => {
    const email = uniqueEmail('ghost');
    const wrong = 'ghost-password-that-must-not-leak';
    const res = await t.http().post('/api/v1/auth/login').set('User-Agent', UA).send({ email, password: wrong });
    expectProblem(res, 401, 'invalid_credentials');
    const rows = await rowsFor(t, 'user.login_failed', { email });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: null,
      org_id: null,
      target_type: 'user',
      target_id: null,
      user_agent: UA,
      metadata: { reason: 'unknown_email' },
    });
    expectNoSecrets(rows[0], [wrong]);
  });

  it('a wrong two-factor code writes one user.login_failed row (reason invalid_two_factor_code)', async () => {
    const u = await givenUser(t);
    const setup = await t.http().post('/api/v1/auth/2fa/setup').set(u.auth).expect(200);
    const codeAt = (ms: number) => speakeasy.totp({ secret: setup.body.secret, encoding: 'base32', time: Math.floor(ms / 1000), step: 30 });
    await t
      .http()
      .post('/api/v1/auth/2fa/verify')
      .set(u.auth)
      .send({ code: codeAt(t.clock.nowMs()) })
      .expect(200);
    const valid = new Set([-30_000, 0, 30_000].map((d) => codeAt(t.clock.nowMs() + d)));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .set('User-Agent', UA)
      .send({ email: u.email, password: u.password, two_factor_code: wrong });
    expectProblem(res, 401, 'invalid_two_factor_code');
    const rows = await rowsAbout(t, u.id, 'user.login_failed');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: null,
      user_email: u.email,
      org_id: u.orgId,
      target_type: 'user',
      target_id: u.id,
      user_agent: UA,
      metadata: { reason: 'invalid_two_factor_code' },
    });
    expectNoSecrets(rows[0], [u.password, setup.body.secret]);
  });

  it('logout writes one user.logged_out row with the session org', async () => {
    const u = await givenUser(t);
    const sid = await sessionIdOf(t, u.accessToken);
    await t.http().post('/api/v1/auth/logout').set(u.auth).set('User-Agent', UA).expect(204);
    const rows = await rowsAbout(t, u.id, 'user.logged_out');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: u.id,
      user_email: u.email,
      org_id: u.orgId,
      target_type: 'user',
      target_id: u.id,
      user_agent: UA,
      metadata: { session_id: sid },
    });
    expect(rows[0].ip_address).toMatch(LOOPBACK);
    expectNoSecrets(rows[0], [u.accessToken, u.refreshToken]);
  });

  it('DELETE /auth/sessions/{id} writes one session.revoked row; a refused one writes none', async () => {
    const u = await givenUser(t);
    const other = await login(t, u.email);
    const otherSid = await sessionIdOf(t, other.accessToken);
    const stranger = await givenUser(t);

    // Another user's session: 404, nothing changed, nothing recorded.
    expectProblem(await t.http().delete(`/api/v1/auth/sessions/${otherSid}`).set(stranger.auth), 404, 'not_found');
    expect(await rowsFor(t, 'session.revoked', { targetId: otherSid })).toHaveLength(0);
    expect(await rowsAbout(t, stranger.id, 'session.revoked')).toHaveLength(0);

    await t.http().delete(`/api/v1/auth/sessions/${otherSid}`).set(u.auth).set('User-Agent', UA).expect(204);
    const rows = await rowsFor(t, 'session.revoked', { targetId: otherSid });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: u.id,
      user_email: u.email,
      org_id: u.orgId,
      target_type: 'session',
      target_id: otherSid,
      user_agent: UA,
    });
    expect(rows[0].ip_address).toMatch(LOOPBACK);
  });

  it('logout-all writes one session.revoked row per session it ends', async () => {
    const u = await givenUser(t);
    const second = await login(t, u.email);
    const sids = [await sessionIdOf(t, u.accessToken), await sessionIdOf(t, second.accessToken)].sort();
    await t.http().post('/api/v1/auth/logout-all').set(u.auth).set('User-Agent', UA).expect(204);
    const rows = await rowsAbout(t, u.id, 'session.revoked');
    expect(rows.map((r) => r.target_id).sort()).toEqual(sids);
    for (const r of rows) {
      expect(r).toMatchObject({ actor_id: u.id, user_email: u.email, org_id: u.orgId, target_type: 'session', user_agent: UA });
      expect(r.metadata).toMatchObject({ reason: 'logout_all' });
    }
  });

  it('a reused refresh token writes one session.refresh_reuse_detected row', async () => {
    const u = await givenUser(t);
    const sid = await sessionIdOf(t, u.accessToken);
    const first = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: u.refreshToken }).expect(200);
    const reuse = await t.http().post('/api/v1/auth/refresh').set('User-Agent', UA).send({ refresh_token: u.refreshToken });
    expectProblem(reuse, 401, 'refresh_token_reused');
    const rows = await rowsFor(t, 'session.refresh_reuse_detected', { targetId: sid });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: u.id,
      user_email: u.email,
      org_id: u.orgId,
      target_type: 'session',
      target_id: sid,
      user_agent: UA,
    });
    expectNoSecrets(rows[0], [u.refreshToken, first.body.refresh_token]);
  });

  describe('account changes: password reset, email verification, two-factor on and off', () => {
    const issue = (userId: string, kind: EmailTokenKind) => t.app.get(EmailTokenService).issue(userId, kind);

    it('a password reset writes one user.password_reset row (the user acts) and one session.revoked per session ended', async () => {
      const u = await givenUser(t);
      const second = await login(t, u.email);
      const sids = [await sessionIdOf(t, u.accessToken), await sessionIdOf(t, second.accessToken)].sort();
      const { token } = await issue(u.id, EmailTokenKind.PasswordReset);
      const newPassword = 'copper-heron-valley-31';
      await t.http().post('/api/v1/auth/password/reset').set('User-Agent', UA).send({ token, new_password: newPassword }).expect(204);
      const rows = await rowsAbout(t, u.id, 'user.password_reset');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_id: u.id, // no session: the holder of the user's link acted as the user
        user_email: u.email,
        org_id: u.orgId, // the org a new session of the user would be scoped to
        target_type: 'user',
        target_id: u.id,
        user_agent: UA,
        metadata: { sessions_ended: 2 },
      });
      expect(rows[0].ip_address).toMatch(LOOPBACK);
      const revoked = await rowsAbout(t, u.id, 'session.revoked');
      expect(revoked.map((r) => r.target_id).sort()).toEqual(sids);
      for (const r of revoked) expect(r).toMatchObject({ actor_id: u.id, org_id: u.orgId, metadata: { reason: 'password_reset' } });
      for (const r of [...rows, ...revoked]) expectNoSecrets(r, [token, newPassword, u.password]);
      // A refused reset (a used link) writes nothing more.
      expectProblem(
        await t.http().post('/api/v1/auth/password/reset').send({ token, new_password: newPassword }),
        400,
        'link_token_invalid',
      );
      expect(await rowsAbout(t, u.id, 'user.password_reset')).toHaveLength(1);
    });

    it('verifying the email writes one user.email_verified row, only when it changes something', async () => {
      const u = await givenUser(t);
      const { token } = await issue(u.id, EmailTokenKind.EmailVerification);
      await t.http().post('/api/v1/auth/email/verify').set('User-Agent', UA).send({ token }).expect(204);
      const rows = await rowsAbout(t, u.id, 'user.email_verified');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_id: u.id,
        user_email: u.email,
        org_id: u.orgId,
        target_type: 'user',
        target_id: u.id,
        user_agent: UA,
      });
      expectNoSecrets(rows[0], [token]);
      // Already verified: a further (valid) link changes nothing and records nothing.
      const again = await issue(u.id, EmailTokenKind.EmailVerification);
      await t.http().post('/api/v1/auth/email/verify').send({ token: again.token }).expect(204);
      expectProblem(await t.http().post('/api/v1/auth/email/verify').send({ token }), 400, 'link_token_invalid');
      expect(await rowsAbout(t, u.id, 'user.email_verified')).toHaveLength(1);
    });

    it('turning two-factor on and off writes user.two_factor_enabled / _disabled (and session.revoked for the others); wrong codes write none', async () => {
      const u = await givenUser(t);
      const other = await login(t, u.email);
      const otherSid = await sessionIdOf(t, other.accessToken);
      const setup = await t.http().post('/api/v1/auth/2fa/setup').set(u.auth).expect(200);
      const secret: string = setup.body.secret;
      const code = () => TwoFactorService.codeFor(secret, t.clock.nowMs());
      const valid = new Set([-30_000, 0, 30_000].map((d) => TwoFactorService.codeFor(secret, t.clock.nowMs() + d)));
      const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;

      expectProblem(await t.http().post('/api/v1/auth/2fa/verify').set(u.auth).send({ code: wrong }), 400, 'invalid_two_factor_code');
      expect(await rowsAbout(t, u.id, 'user.two_factor_enabled')).toHaveLength(0);

      await t.http().post('/api/v1/auth/2fa/verify').set(u.auth).set('User-Agent', UA).send({ code: code() }).expect(200);
      const enabled = await rowsAbout(t, u.id, 'user.two_factor_enabled');
      expect(enabled).toHaveLength(1);
      expect(enabled[0]).toMatchObject({
        actor_id: u.id,
        user_email: u.email,
        org_id: u.orgId,
        target_type: 'user',
        target_id: u.id,
        user_agent: UA,
        metadata: { other_sessions_ended: 1 },
      });
      expect(await rowsAbout(t, u.id, 'session.revoked')).toEqual([
        expect.objectContaining({ actor_id: u.id, target_id: otherSid, metadata: { reason: 'two_factor_changed' } }),
      ]);
      t.clock.advance(30_000); // the verify code's step is spent

      expectProblem(
        await t.http().post('/api/v1/auth/2fa/disable').set(u.auth).send({ password: u.password, code: wrong }),
        403,
        'reauthentication_failed',
      );
      expectProblem(
        await t.http().post('/api/v1/auth/2fa/disable').set(u.auth).send({ password: 'not-the-password-1', code: code() }),
        403,
        'reauthentication_failed',
      );
      expect(await rowsAbout(t, u.id, 'user.two_factor_disabled')).toHaveLength(0);

      await t
        .http()
        .post('/api/v1/auth/2fa/disable')
        .set(u.auth)
        .set('User-Agent', UA)
        .send({ password: u.password, code: code() })
        .expect(204);
      const disabled = await rowsAbout(t, u.id, 'user.two_factor_disabled');
      expect(disabled).toHaveLength(1);
      expect(disabled[0]).toMatchObject({
        actor_id: u.id,
        org_id: u.orgId,
        target_type: 'user',
        target_id: u.id,
        metadata: { other_sessions_ended: 0 },
      });
      for (const r of [...enabled, ...disabled]) expectNoSecrets(r, [secret, u.password, ...setup.body.backup_codes]);
      expect(await rowsAbout(t, u.id, 'user.two_factor_enabled')).toHaveLength(1);
    });
  });

  describe('a change and its audit row commit together', () => {
    async function withFailingAudit(action: string, fn: () => Promise<void>): Promise<void> {
      // A constraint only the audit insert can trip: the row cannot be written.
      await t.sql(`ALTER TABLE audit_logs ADD CONSTRAINT audit_e2e_refuse CHECK (action <> '${action}') NOT VALID`);
      try {
        await fn();
      } finally {
        await t.sql(`ALTER TABLE audit_logs DROP CONSTRAINT audit_e2e_refuse`);
      }
    }

    it('@Audit route: a failed audit write rolls the logout back', async () => {
      const u = await givenUser(t);
      const sid = await sessionIdOf(t, u.accessToken);
      await withFailingAudit('user.logged_out', async () => {
        const res = await t.http().post('/api/v1/auth/logout').set(u.auth);
        expectProblem(res, 500, 'internal_error');
      });
      const [session] = await t.sql<{ revoked_at: Date | null }>(`SELECT revoked_at FROM sessions WHERE id = $1`, [sid]);
      expect(session.revoked_at).toBeNull();
      await t.http().get('/api/v1/auth/me').set(u.auth).expect(200);
      expect(await rowsAbout(t, u.id, 'user.logged_out')).toHaveLength(0);
      // With the audit write possible again, the same request succeeds and is recorded.
      await t.http().post('/api/v1/auth/logout').set(u.auth).expect(204);
      expect(await rowsAbout(t, u.id, 'user.logged_out')).toHaveLength(1);
    });

    it('AuditService.record inside a transaction: a failed audit write rolls the login back', async () => {
      const u = await givenUser(t);
      const [{ n: before }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [u.id]);
      await withFailingAudit('user.logged_in', async () => {
        const res = await t.http().post('/api/v1/auth/login').send({ email: u.email, password: u.password });
        expectProblem(res, 500, 'internal_error');
      });
      const [{ n: after }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [u.id]);
      expect(after).toBe(before);
      expect(await rowsAbout(t, u.id, 'user.logged_in')).toHaveLength(0);
    });

    it('a failed registration leaves no row', async () => {
      const u = await givenUser(t);
      const res = await t.http().post('/api/v1/auth/register').send({ email: u.email, password: GOOD_PASSWORD, full_name: 'Dup' });
      expectProblem(res, 409, 'email_taken');
      expect(await rowsAbout(t, u.id, 'user.registered')).toHaveLength(1);
      expect(await rowsFor(t, 'user.registered', { email: u.email })).toHaveLength(1);
    });
  });

  it('ignores a spoofed X-Forwarded-For when TRUST_PROXY is false', async () => {
    expect(t.config.trustProxy).toBe(false);
    const u = await givenUser(t);
    await t
      .http()
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', '203.0.113.77')
      .send({ email: u.email, password: u.password })
      .expect(200);
    const [row] = await rowsAbout(t, u.id, 'user.logged_in');
    expect(row.ip_address).not.toBe('203.0.113.77');
    expect(row.ip_address).toMatch(LOOPBACK);
  });

  describe('behind a trusted proxy', () => {
    let proxied: TestApp;
    beforeAll(async () => {
      // A second API instance on the same database, behind a proxy it trusts.
      proxied = await createTestApp({ env: { ...NO_RATE_LIMITS, TRUST_PROXY: 'true' }, shareDatabaseWith: t });
    }, BOOT_TIMEOUT);
    afterAll(async () => {
      await proxied?.close();
    }, BOOT_TIMEOUT);

    it('records the client address from X-Forwarded-For when TRUST_PROXY is true', async () => {
      const u = await givenUser(proxied);
      await proxied
        .http()
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', '203.0.113.77')
        .send({ email: u.email, password: u.password })
        .expect(200);
      const [row] = await rowsAbout(proxied, u.id, 'user.logged_in');
      expect(row.ip_address).toBe('203.0.113.77');
      // A signed-in route records it too (the interceptor path).
      await proxied.http().post('/api/v1/auth/logout').set(bearer(u.accessToken)).set('X-Forwarded-For', '198.51.100.5').expect(204);
      const [out] = await rowsAbout(proxied, u.id, 'user.logged_out');
      expect(out.ip_address).toBe('198.51.100.5');
    });
  });
});
