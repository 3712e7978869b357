import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { newId } from '@saasready/core';
import { BuiltInRole } from '@saasready/rbac';
import { MembershipEntity, OrganizationService } from '@saasready/tenancy';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, decodeJwt, expectProblem, givenUser, login } from '../support/factories';

/** Rate limits are not under test here (their own suite covers them): these suites sign in a lot. */
const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '0/1m', RATE_LIMIT_REGISTER: '0/1m', RATE_LIMIT_REFRESH: '0/1m' };

/** Refresh (rotation, reuse, races), revocation, the session list, and switching organizations. */
describe('auth: sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (token: string) => t.http().get('/api/v1/auth/me').set(bearer(token));
  const refresh = (refreshToken: unknown) => t.http().post('/api/v1/auth/refresh').send({ refresh_token: refreshToken });
  const sidOf = (token: string): string => decodeJwt(token).payload.sid;

  describe('POST /auth/refresh', () => {
    it('rotates: a new token pair for the same session; the used refresh token is then refused', async () => {
      const u = await givenUser(t);
      await me(u.accessToken).expect(200);
      const res = await refresh(u.refreshToken).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        role: 'Owner',
        organization: { id: u.orgId },
        user: { id: u.id, email: u.email, current_org_id: u.orgId },
      });
      expect(res.body.refresh_token).not.toBe(u.refreshToken);
      expect(res.body.access_token).not.toBe(u.accessToken);
      expect(sidOf(res.body.access_token)).toBe(sidOf(u.accessToken));
      await me(res.body.access_token).expect(200);
      // the old access token belongs to the same live session: still good until it expires
      await me(u.accessToken).expect(200);
      // a second rotation works with the new token
      const again = await refresh(res.body.refresh_token).expect(200);
      expect(sidOf(again.body.access_token)).toBe(sidOf(u.accessToken));
      expect(await t.sql('SELECT 1 FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL', [sidOf(u.accessToken)])).toHaveLength(1);
    });

    it('reuse of a used refresh token: 401 refresh_token_reused, and the whole session is revoked', async () => {
      const u = await givenUser(t);
      const first = await refresh(u.refreshToken).expect(200);
      await me(first.body.access_token).expect(200); // warm the session cache

      const reuse = await refresh(u.refreshToken);
      expectProblem(reuse, 401, 'refresh_token_reused');

      // at once: the newest access token and the original one are refused, and so is the newest refresh token
      expectProblem(await me(first.body.access_token), 401, 'session_revoked');
      expectProblem(await me(u.accessToken), 401, 'session_revoked');
      const newest = await refresh(first.body.refresh_token);
      expect(newest.status).toBe(401);
      expect(['session_revoked', 'refresh_token_reused']).toContain(newest.body.code);
      const [row] = await t.sql<{ revoked_at: Date | null; revoke_reason: string }>(
        'SELECT revoked_at, revoke_reason FROM sessions WHERE id = $1',
        [sidOf(u.accessToken)],
      );
      expect(row.revoked_at).not.toBeNull();
      expect(row.revoke_reason).toBe('refresh_reuse');
      // a second reuse stays refused
      expectProblem(await refresh(u.refreshToken), 401, 'refresh_token_reused');
      // other sessions of the user are not touched
      const other = await login(t, u.email, u.password);
      await me(other.accessToken).expect(200);
    });

    it('10 concurrent refreshes with one token: at most one 200, the others 401, no 5xx', async () => {
      const u = await givenUser(t);
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(u.refreshToken)));
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length).toBeLessThanOrEqual(1);
      for (const r of results.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(401);
        expect(['refresh_token_reused', 'session_revoked']).toContain(r.body.code);
      }
      // the losers were reuse: the session is ended, so even the winner's tokens are refused
      expectProblem(await me(u.accessToken), 401, 'session_revoked');
      for (const r of ok) expect((await refresh(r.body.refresh_token)).status).toBe(401);
    });

    it('an unknown refresh token is 401 token_invalid', async () => {
      expectProblem(await refresh('A'.repeat(43)), 401, 'token_invalid');
      expectProblem(await refresh('not even base64!'), 401, 'token_invalid');
    });

    it.each([
      ['a missing token', {}],
      ['an empty token', { refresh_token: '' }],
      ['a non-string token', { refresh_token: 12345 }],
      ['an unknown field', { refresh_token: 'x', session_id: randomUUID() }],
    ])('refuses %s: 400 validation_failed', async (_name, body) => {
      expectProblem(await t.http().post('/api/v1/auth/refresh').send(body), 400, 'validation_failed');
    });

    it('the refresh token of an ended session is refused (session_revoked)', async () => {
      const u = await givenUser(t);
      await t.http().post('/api/v1/auth/logout').set(u.auth).expect(204);
      expectProblem(await refresh(u.refreshToken), 401, 'session_revoked');
    });
  });

  describe('revocation takes effect on the very next request', () => {
    it('POST /auth/logout: 204, then the token is 401 session_revoked; other sessions live on', async () => {
      const u = await givenUser(t);
      const second = await login(t, u.email, u.password);
      await me(u.accessToken).expect(200); // cached
      const res = await t.http().post('/api/v1/auth/logout').set(u.auth).expect(204);
      expect(res.text).toBe('');
      expectProblem(await me(u.accessToken), 401, 'session_revoked');
      expectProblem(await t.http().post('/api/v1/auth/logout').set(u.auth), 401, 'session_revoked');
      expectProblem(await t.http().get('/api/v1/permissions').set(u.auth), 401, 'session_revoked');
      await me(second.accessToken).expect(200);
    });

    it('POST /auth/logout-all: 204, then every session of the user is refused (access and refresh); other users unaffected', async () => {
      const u = await givenUser(t);
      const s2 = await login(t, u.email, u.password);
      const s3 = await login(t, u.email, u.password);
      const bystander = await givenUser(t);
      for (const token of [u.accessToken, s2.accessToken, s3.accessToken, bystander.accessToken]) await me(token).expect(200);

      await t.http().post('/api/v1/auth/logout-all').set(s2.auth).expect(204);

      for (const token of [u.accessToken, s2.accessToken, s3.accessToken]) expectProblem(await me(token), 401, 'session_revoked');
      for (const rt of [u.refreshToken, s2.refreshToken, s3.refreshToken]) expectProblem(await refresh(rt), 401, 'session_revoked');
      await me(bystander.accessToken).expect(200);
      expect(await t.sql('SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [u.id])).toHaveLength(0);
      // signing in again works
      const fresh = await login(t, u.email, u.password);
      await me(fresh.accessToken).expect(200);
    });

    it('logout and logout-all need a token', async () => {
      expectProblem(await t.http().post('/api/v1/auth/logout'), 401, 'token_invalid');
      expectProblem(await t.http().post('/api/v1/auth/logout-all'), 401, 'token_invalid');
    });
  });

  describe('GET /auth/sessions and DELETE /auth/sessions/{id}', () => {
    it('lists the live sessions, newest first, with the current one marked', async () => {
      const u = await givenUser(t);
      const second = await t
        .http()
        .post('/api/v1/auth/login')
        .set('User-Agent', 'SessionTest/1.0 (X11)')
        .set('X-Forwarded-For', '203.0.113.9')
        .send({ email: u.email, password: u.password })
        .expect(200);
      const res = await t.http().get('/api/v1/auth/sessions').set(bearer(second.body.access_token)).expect(200);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data).toHaveLength(2);
      for (const s of res.body.data) {
        expect(Object.keys(s).sort()).toEqual(['created_at', 'current', 'id', 'ip_address', 'last_used_at', 'user_agent']);
        expect(s.created_at).toMatch(/Z$/);
        expect(s.last_used_at).toMatch(/Z$/);
      }
      const [newest, oldest] = res.body.data;
      expect(newest).toMatchObject({ id: sidOf(second.body.access_token), current: true, user_agent: 'SessionTest/1.0 (X11)' });
      expect(oldest).toMatchObject({ id: sidOf(u.accessToken), current: false });
      // TRUST_PROXY is off: the client cannot choose its recorded address
      expect(newest.ip_address).not.toBe('203.0.113.9');
      expect(newest.ip_address).toMatch(/127\.0\.0\.1|::1/);
      // the other session sees itself as current
      const fromFirst = await t.http().get('/api/v1/auth/sessions').set(u.auth).expect(200);
      expect(fromFirst.body.data.find((s: { current: boolean }) => s.current).id).toBe(sidOf(u.accessToken));
      // another user's sessions never appear
      const other = await givenUser(t);
      const theirs = await t.http().get('/api/v1/auth/sessions').set(other.auth).expect(200);
      expect(theirs.body.data.map((s: { id: string }) => s.id)).toEqual([sidOf(other.accessToken)]);
    });

    it('DELETE ends one of my sessions: its access and refresh tokens are refused at once; it leaves the list', async () => {
      const u = await givenUser(t);
      const other = await login(t, u.email, u.password);
      await me(other.accessToken).expect(200); // cached
      const res = await t
        .http()
        .delete(`/api/v1/auth/sessions/${sidOf(other.accessToken)}`)
        .set(u.auth)
        .expect(204);
      expect(res.text).toBe('');
      expectProblem(await me(other.accessToken), 401, 'session_revoked');
      expectProblem(await refresh(other.refreshToken), 401, 'session_revoked');
      await me(u.accessToken).expect(200);
      const list = await t.http().get('/api/v1/auth/sessions').set(u.auth).expect(200);
      expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([sidOf(u.accessToken)]);
      // deleting it again: it is no longer a live session of mine
      expectProblem(
        await t
          .http()
          .delete(`/api/v1/auth/sessions/${sidOf(other.accessToken)}`)
          .set(u.auth),
        404,
        'not_found',
      );
    });

    it("DELETE of another user's session is 404 not_found, and that session lives on", async () => {
      const u = await givenUser(t);
      const victim = await givenUser(t);
      const res = await t
        .http()
        .delete(`/api/v1/auth/sessions/${sidOf(victim.accessToken)}`)
        .set(u.auth);
      expectProblem(res, 404, 'not_found');
      await me(victim.accessToken).expect(200);
      expect(await t.sql('SELECT revoked_at FROM sessions WHERE id = $1', [sidOf(victim.accessToken)])).toEqual([{ revoked_at: null }]);
    });

    it('DELETE of an unknown session is 404; of a malformed id 400 validation_failed; without a token 401', async () => {
      const u = await givenUser(t);
      expectProblem(await t.http().delete(`/api/v1/auth/sessions/${randomUUID()}`).set(u.auth), 404, 'not_found');
      const bad = await t.http().delete('/api/v1/auth/sessions/not-a-uuid').set(u.auth);
      expectProblem(bad, 400, 'validation_failed');
      expect(bad.body.errors).toEqual([{ field: 'session_id', message: expect.any(String) }]);
      expectProblem(await t.http().delete(`/api/v1/auth/sessions/${sidOf(u.accessToken)}`), 401, 'token_invalid');
      expectProblem(await t.http().get('/api/v1/auth/sessions'), 401, 'token_invalid');
    });

    it('DELETE of my current session ends it', async () => {
      const u = await givenUser(t);
      await t
        .http()
        .delete(`/api/v1/auth/sessions/${sidOf(u.accessToken)}`)
        .set(u.auth)
        .expect(204);
      expectProblem(await me(u.accessToken), 401, 'session_revoked');
    });
  });

  describe('POST /auth/switch-org', () => {
    const switchOrg = (token: string, body: unknown) =>
      t
        .http()
        .post('/api/v1/auth/switch-org')
        .set(bearer(token))
        .send(body as object);

    it('rescopes the session to another org of mine: token response, /auth/me, refresh and the next login follow', async () => {
      const u = await givenUser(t);
      const second = await t.app.get(OrganizationService).createWithOwner({ name: 'Second Org' }, u.id);

      const res = await switchOrg(u.accessToken, { org_id: second.id }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        role: 'Owner',
        organization: { id: second.id, name: 'Second Org', slug: second.slug },
        user: { id: u.id, current_org_id: second.id, current_org_role: 'Owner' },
      });
      const claims = decodeJwt(res.body.access_token).payload;
      expect(claims).toMatchObject({ sid: sidOf(u.accessToken), org_id: second.id, org_role: 'Owner' });

      // the session (whichever of its access tokens is used) is now scoped there
      expect((await me(res.body.access_token).expect(200)).body.current_org_id).toBe(second.id);
      expect((await me(u.accessToken).expect(200)).body.current_org_id).toBe(second.id);

      // the refresh token handed out by switch-org keeps the scope; the one from before is refused
      const refreshed = await refresh(res.body.refresh_token).expect(200);
      expect(refreshed.body.organization.id).toBe(second.id);
      expect((await refresh(u.refreshToken)).status).toBe(401);

      // the next login starts in the org the user was last scoped to
      const next = await t.http().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(200);
      expect(next.body.organization.id).toBe(second.id);
      expect(decodeJwt(next.body.access_token).payload.org_id).toBe(second.id);

      // and back
      const back = await switchOrg(next.body.access_token, { org_id: u.orgId.toUpperCase() }).expect(200);
      expect(back.body.organization.id).toBe(u.orgId);
    });

    it('scopes role and permissions to the role held there (Member)', async () => {
      const owner = await givenUser(t);
      const member = await givenUser(t);
      await t.app
        .get(DataSource)
        .getRepository(MembershipEntity)
        .insert({ id: newId(), orgId: owner.orgId, userId: member.id, roleId: BuiltInRole.Member.id, createdAt: new Date() });
      const res = await switchOrg(member.accessToken, { org_id: owner.orgId }).expect(200);
      expect(res.body.role).toBe('Member');
      expect(res.body.user).toMatchObject({
        current_org_id: owner.orgId,
        current_org_role: 'Member',
        permissions: ['org.read', 'user.read'],
      });
      expect(decodeJwt(res.body.access_token).payload).toMatchObject({
        org_id: owner.orgId,
        org_role: 'Member',
        permissions: ['org.read', 'user.read'],
      });
      const m = await me(res.body.access_token).expect(200);
      expect(m.body).toMatchObject({ current_org_role: 'Member', permissions: ['org.read', 'user.read'] });
    });

    it('to an org I am not a member of, or that does not exist: 404 org_not_found, and the scope stays', async () => {
      const u = await givenUser(t);
      const stranger = await givenUser(t);
      expectProblem(await switchOrg(u.accessToken, { org_id: stranger.orgId }), 404, 'org_not_found');
      expectProblem(await switchOrg(u.accessToken, { org_id: randomUUID() }), 404, 'org_not_found');
      expect((await me(u.accessToken).expect(200)).body.current_org_id).toBe(u.orgId);
      // the refresh token was not voided by the refusal
      await refresh(u.refreshToken).expect(200);
    });

    it.each([
      ['a malformed org_id', { org_id: 'not-a-uuid' }],
      ['a numeric org_id', { org_id: 42 }],
      ['a missing org_id', {}],
      ['an unknown field', { org_id: randomUUID(), role: 'Owner' }],
    ])('refuses %s: 400 validation_failed', async (_name, body) => {
      const u = await givenUser(t);
      const res = await switchOrg(u.accessToken, body);
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors.length).toBeGreaterThan(0);
    });

    it('needs a live session', async () => {
      const u = await givenUser(t);
      expectProblem(await t.http().post('/api/v1/auth/switch-org').send({ org_id: u.orgId }), 401, 'token_invalid');
      await t.http().post('/api/v1/auth/logout').set(u.auth).expect(204);
      expectProblem(await switchOrg(u.accessToken, { org_id: u.orgId }), 401, 'session_revoked');
    });
  });

  describe('expiry (the clock moves forward: keep last)', () => {
    it('a refresh token past REFRESH_TOKEN_TTL is 401 token_expired', async () => {
      const u = await givenUser(t);
      t.clock.advance(t.config.refreshTokenTtlMs + 1000);
      expectProblem(await refresh(u.refreshToken), 401, 'token_expired');
      // its session is no longer listed as live
      const fresh = await login(t, u.email, u.password);
      const list = await t.http().get('/api/v1/auth/sessions').set(fresh.auth).expect(200);
      expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([sidOf(fresh.accessToken)]);
    });
  });
});
