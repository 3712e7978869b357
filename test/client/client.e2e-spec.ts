import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import speakeasy from 'speakeasy';
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  SaaSReady,
  SaaSReadyError,
  Tokens,
  TwoFactorRequiredError,
  ValidationError,
} from '@saasready/client';
import { decodeJwt, GOOD_PASSWORD, uniqueEmail } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * The TypeScript client (libs/client) against the real API listening on a real port: no mock anywhere.
 * Every request the clients send goes through `recordingFetch`, so tests can assert which requests
 * hit the API (e.g. exactly one refresh).
 */
describe('@saasready/client against the running API', () => {
  let t: TestApp;
  let baseUrl: string;
  const sent: string[] = [];
  const recordingFetch = (request: Request): Promise<Response> => {
    sent.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  };
  const newClient = (options: { onTokens?: (tokens: Tokens | null) => void } = {}) =>
    new SaaSReady({ baseUrl, fetch: recordingFetch, ...options });
  const refreshesSent = () => sent.filter((r) => r === 'POST /api/v1/auth/refresh').length;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await t.app.getUrl();
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    sent.length = 0;
  });

  /** A registered user with a signed-in client. */
  async function signedIn(name = 'Ada Lovelace') {
    const email = uniqueEmail('client');
    const client = newClient();
    const res = await client.auth.register({ email, password: GOOD_PASSWORD, full_name: name });
    return { client, email, userId: res.user.id, orgId: res.organization!.id };
  }

  /** Signs `client` in with the server's clock an hour back: the access token it gets is already expired. */
  async function loginWithExpiredAccessToken(client: SaaSReady, email: string): Promise<void> {
    const now = t.clock.nowMs();
    t.clock.set(now - 3600_000);
    try {
      await client.auth.login({ email, password: GOOD_PASSWORD });
    } finally {
      t.clock.set(now);
    }
    expect(decodeJwt(client.getTokens()!.accessToken).payload.exp * 1000).toBeLessThan(Date.now());
  }

  const totp = (secret: string) => speakeasy.totp({ secret, encoding: 'base32', time: Math.floor(t.clock.nowMs() / 1000), step: 30 });

  describe('accounts', () => {
    it('register and login keep the tokens; me() sends them; logout forgets them and the session ends', async () => {
      const changes: (Tokens | null)[] = [];
      const client = newClient({ onTokens: (tokens) => changes.push(tokens) });
      const email = uniqueEmail('client');
      const registered = await client.auth.register({ email, password: GOOD_PASSWORD, full_name: 'Grace Hopper' });
      expect(registered).toMatchObject({ token_type: 'Bearer', user: { email, full_name: 'Grace Hopper' }, role: 'Owner' });
      expect(client.getTokens()).toEqual({ accessToken: registered.access_token, refreshToken: registered.refresh_token });
      expect(changes).toHaveLength(1);

      const me = await client.auth.me();
      expect(me).toMatchObject({ id: registered.user.id, email, current_org_id: registered.organization!.id, current_org_role: 'Owner' });
      expect(me.permissions).toContain('org.delete');

      const other = newClient();
      const loggedIn = await other.auth.login({ email, password: GOOD_PASSWORD });
      expect(other.getTokens()!.accessToken).toBe(loggedIn.access_token);
      expect(loggedIn.access_token).not.toBe(registered.access_token);

      const stale = client.getTokens()!.accessToken;
      await client.auth.logout();
      expect(client.getTokens()).toBeNull();
      expect(changes.at(-1)).toBeNull();
      // The ended session's token is refused by the API itself.
      const raw = await fetch(`${baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${stale}` } });
      expect(raw.status).toBe(401);
      expect(((await raw.json()) as { code: string }).code).toBe('session_revoked');
      // The other session is untouched.
      expect((await other.auth.me()).email).toBe(email);
    });

    it('errors are typed, with the problem code, detail, field errors and request id', async () => {
      const { client, email } = await signedIn();
      const anonymous = newClient();

      const wrong = await anonymous.auth.login({ email, password: 'not-the-password-1' }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(AuthenticationError);
      expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials', detail: expect.any(String), requestId: expect.any(String) });
      // A 401 of a public route (no token sent) is not a reason to refresh.
      expect(refreshesSent()).toBe(0);

      const taken = await anonymous.auth.register({ email, password: GOOD_PASSWORD, full_name: 'X' }).catch((e: unknown) => e);
      expect(taken).toBeInstanceOf(ConflictError);
      expect((taken as SaaSReadyError).code).toBe('email_taken');

      const invalid = await anonymous.auth
        .register({ email: 'not-an-email', password: GOOD_PASSWORD, full_name: 'X' })
        .catch((e: unknown) => e as ValidationError);
      expect(invalid).toBeInstanceOf(ValidationError);
      expect(invalid).toMatchObject({ status: 400, code: 'validation_failed' });
      expect((invalid as ValidationError).errors).toEqual([{ field: 'email', message: expect.any(String) }]);

      const noToken = await anonymous.auth.me().catch((e: unknown) => e);
      expect(noToken).toBeInstanceOf(AuthenticationError);
      expect((noToken as SaaSReadyError).code).toBe('token_invalid');

      // The generated client underneath shares the tokens.
      const { data } = await client.api.GET('/api/v1/permissions');
      expect(data?.data.map((p) => p.key)).toContain('org.read');
    });

    it('a locked account is a RateLimitError with retryAfter', async () => {
      const { email } = await signedIn();
      const anonymous = newClient();
      let last: unknown;
      for (let i = 0; i < 10 && !(last instanceof RateLimitError); i++) {
        last = await anonymous.auth.login({ email, password: `wrong-password-${i}` }).catch((e: unknown) => e);
      }
      expect(last).toBeInstanceOf(RateLimitError);
      expect(last).toMatchObject({ status: 429, code: 'account_locked' });
      expect((last as RateLimitError).retryAfter).toBeGreaterThan(0);
    });
  });

  describe('organizations, roles, members, invitations', () => {
    it('create, get, list, update and delete an organization', async () => {
      const { client, orgId: personal } = await signedIn();
      const slug = `acme-${Date.now().toString(36)}`;
      const org = await client.orgs.create({ name: 'Acme', slug, metadata: { plan: 'pro' } });
      expect(org).toMatchObject({ name: 'Acme', slug, metadata: { plan: 'pro' }, your_role: 'Owner' });
      expect(await client.orgs.get(org.id)).toEqual(org);

      const page = await client.orgs.list();
      expect(page.next_cursor).toBeNull();
      expect(page.data.map((o) => o.id).sort()).toEqual([personal, org.id].sort());

      const updated = await client.orgs.update(org.id, { name: 'Acme Inc.' });
      expect(updated).toMatchObject({ id: org.id, name: 'Acme Inc.', slug });

      const conflict = await client.orgs.create({ name: 'Other', slug }).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect((conflict as ConflictError).code).toBe('slug_taken');

      await client.orgs.delete(org.id);
      const gone = await client.orgs.get(org.id).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(NotFoundError);
      expect((gone as NotFoundError).code).toBe('org_not_found');
    });

    it('roles, invitations, members: invite, join, change role, remove; other tenants see nothing', async () => {
      const owner = await signedIn('Owner');
      const roles = await owner.client.orgs.listRoles(owner.orgId);
      expect(roles.map((r) => r.name)).toEqual(expect.arrayContaining(['Owner', 'Admin', 'Member', 'Viewer']));
      const role = (name: string) => roles.find((r) => r.name === name)!.id;

      // Invite; the invitee previews (no sign-in), registers with the token and lands in the org.
      const inviteeEmail = uniqueEmail('invitee');
      const invitation = await owner.client.orgs.inviteMember(owner.orgId, { email: inviteeEmail, role_id: role('Viewer') });
      expect(invitation).toMatchObject({ email: inviteeEmail, role_name: 'Viewer', status: 'pending', token: expect.any(String) });
      const invitee = newClient();
      expect(await invitee.invitations.preview(invitation.token)).toMatchObject({ email: inviteeEmail, role_name: 'Viewer' });
      const joined = await invitee.auth.register({
        email: inviteeEmail,
        password: GOOD_PASSWORD,
        full_name: 'Invitee',
        invitation_token: invitation.token,
      });
      expect(joined).toMatchObject({ organization: { id: owner.orgId }, role: 'Viewer' });

      const members = await owner.client.orgs.listMembers(owner.orgId).toArray();
      expect(members.map((m) => [m.email, m.role_name]).sort()).toEqual(
        [
          [owner.email, 'Owner'],
          [inviteeEmail, 'Viewer'],
        ].sort(),
      );
      const accepted = await owner.client.orgs.listInvitations(owner.orgId, { status: 'accepted' });
      expect(accepted.data.map((i) => i.id)).toEqual([invitation.id]);

      // A Viewer may read but not manage.
      const denied = await invitee.features.setFlag(owner.orgId, 'beta', true).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(PermissionDeniedError);
      expect((denied as PermissionDeniedError).code).toBe('permission_denied');

      const promoted = await owner.client.orgs.updateMemberRole(owner.orgId, joined.user.id, role('Admin'));
      expect(promoted).toMatchObject({ user_id: joined.user.id, role_name: 'Admin' });
      expect((await invitee.auth.me()).current_org_role).toBe('Admin');

      // A pending invitation can be revoked.
      const second = await owner.client.orgs.inviteMember(owner.orgId, { email: uniqueEmail('later'), role_id: role('Member') });
      await owner.client.orgs.revokeInvitation(owner.orgId, second.id);
      const revoked = await owner.client.orgs.listInvitations(owner.orgId, { status: 'revoked' });
      expect(revoked.data.map((i) => i.id)).toEqual([second.id]);

      await owner.client.orgs.removeMember(owner.orgId, joined.user.id);
      expect((await owner.client.orgs.listMembers(owner.orgId)).data.map((m) => m.email)).toEqual([owner.email]);

      // Another tenant: the org does not exist for them.
      const stranger = await signedIn('Stranger');
      for (const attempt of [
        stranger.client.orgs.get(owner.orgId),
        stranger.client.orgs.listMembers(owner.orgId).then((p) => p),
        stranger.client.orgs.listAuditLogs(owner.orgId).then((p) => p),
      ]) {
        const e = await attempt.catch((err: unknown) => err);
        expect(e).toBeInstanceOf(NotFoundError);
        expect((e as NotFoundError).code).toBe('org_not_found');
      }
      expect(await stranger.client.authz.check(owner.orgId, 'org.read')).toBe(false);
      expect(await owner.client.authz.check(owner.orgId, 'org.delete')).toBe(true);
    });
  });

  describe('paged lists', () => {
    it('awaiting gives one page; for await walks every page, one request each', async () => {
      const { client, orgId: personal } = await signedIn();
      const created: string[] = [];
      for (let i = 0; i < 4; i++) created.push((await client.orgs.create({ name: `Paged ${i}` })).id);

      const first = await client.orgs.list({ limit: 2 });
      expect(first.data).toHaveLength(2);
      expect(first.next_cursor).toEqual(expect.any(String));

      sent.length = 0;
      const ids: string[] = [];
      for await (const org of client.orgs.list({ limit: 2 })) ids.push(org.id);
      expect(ids.sort()).toEqual([personal, ...created].sort());
      expect(sent).toEqual(Array(3).fill('GET /api/v1/orgs'));

      const pages: number[] = [];
      for await (const page of client.orgs.list({ limit: 2 }).pages()) pages.push(page.data.length);
      expect(pages).toEqual([2, 2, 1]);

      // break stops fetching
      sent.length = 0;
      for await (const org of client.orgs.list({ limit: 2 })) {
        expect(org.id).toBeTruthy();
        break;
      }
      expect(sent).toHaveLength(1);
    });

    it("iterates an organization's whole audit log across pages, newest first, as the database has it", async () => {
      const { client, orgId } = await signedIn();
      for (let i = 0; i < 3; i++) await client.orgs.update(orgId, { name: `Renamed ${i}` });
      for (const key of ['alpha', 'beta', 'gamma']) await client.features.setFlag(orgId, key, true);

      const rows = await t.sql<{ id: string }>(`SELECT id FROM audit_logs WHERE org_id = $1`, [orgId]);
      expect(rows.length).toBeGreaterThanOrEqual(7);
      sent.length = 0;
      const sizes: number[] = [];
      const logs = [];
      for await (const page of client.orgs.listAuditLogs(orgId, { limit: 2 }).pages()) {
        sizes.push(page.data.length);
        logs.push(...page.data);
      }
      expect(sent).toHaveLength(sizes.length); // one request a page
      expect(sizes.slice(0, -1).every((n) => n === 2)).toBe(true);
      expect(logs.map((l) => l.id).sort()).toEqual(rows.map((r) => r.id).sort());
      expect((await client.orgs.listAuditLogs(orgId, { limit: 2 }).toArray()).map((l) => l.id)).toEqual(logs.map((l) => l.id));
      const times = logs.map((l) => Date.parse(l.timestamp));
      expect(times).toEqual([...times].sort((a, b) => b - a));

      const renamed: string[] = [];
      for await (const log of client.orgs.listAuditLogs(orgId, { action: 'org.updated', limit: 1 })) renamed.push(log.action);
      expect(renamed).toEqual(['org.updated', 'org.updated', 'org.updated']);
      expect(await client.orgs.verifyAuditLogs(orgId)).toMatchObject({ valid: true, first_invalid_id: null });
    });
  });

  describe('feature flags', () => {
    it('setFlag and isEnabled, for a given org or the session’s current one', async () => {
      const { client, orgId } = await signedIn();
      const other = await client.orgs.create({ name: 'Flags elsewhere' });
      expect(await client.features.isEnabled('new-dashboard', { orgId })).toBe(false);

      expect(await client.features.setFlag(orgId, 'new-dashboard', true)).toMatchObject({
        key: 'new-dashboard',
        enabled: true,
        source: 'org',
      });
      expect(await client.features.isEnabled('new-dashboard', { orgId })).toBe(true);
      expect(await client.features.isEnabled('new-dashboard')).toBe(true); // the session's org is the personal one
      expect(await client.features.isEnabled('new-dashboard', { orgId: other.id })).toBe(false);

      await client.features.clearFlag(orgId, 'new-dashboard');
      expect(await client.features.isEnabled('new-dashboard')).toBe(false);
      const bad = await client.features.setFlag(orgId, 'Not A Key!', true).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ValidationError);
    });
  });

  describe('two-factor login', () => {
    it('enable2fa, verify2fa, login with the code, disable2fa', async () => {
      const { client, email } = await signedIn();
      const setup = await client.auth.enable2fa();
      expect(setup.backup_codes).toHaveLength(10);
      const wrongVerify = await client.auth.verify2fa('000000').catch((e: unknown) => e);
      expect(wrongVerify).toBeInstanceOf(ValidationError);
      expect((wrongVerify as ValidationError).code).toBe('invalid_two_factor_code');
      expect(await client.auth.verify2fa(totp(setup.secret))).toEqual({ two_factor_enabled: true });
      expect((await client.auth.me()).two_factor_enabled).toBe(true);
      t.clock.advance(30_000); // the verify code's step is spent

      const device = newClient();
      const required = await device.auth.login({ email, password: GOOD_PASSWORD }).catch((e: unknown) => e);
      expect(required).toBeInstanceOf(TwoFactorRequiredError);
      expect(required).toBeInstanceOf(AuthenticationError);
      expect((required as TwoFactorRequiredError).code).toBe('two_factor_required');
      expect(device.getTokens()).toBeNull();
      const wrong = await device.auth.login({ email, password: GOOD_PASSWORD, two_factor_code: '000000' }).catch((e: unknown) => e);
      expect((wrong as AuthenticationError).code).toBe('invalid_two_factor_code');

      await device.auth.login({ email, password: GOOD_PASSWORD, two_factor_code: totp(setup.secret) });
      expect((await device.auth.me()).email).toBe(email);
      t.clock.advance(30_000);

      // A backup code works once.
      const backup = newClient();
      await backup.auth.login({ email, password: GOOD_PASSWORD, two_factor_code: setup.backup_codes[0] });
      const reused = await newClient()
        .auth.login({ email, password: GOOD_PASSWORD, two_factor_code: setup.backup_codes[0] })
        .catch((e: unknown) => e);
      expect((reused as AuthenticationError).code).toBe('invalid_two_factor_code');

      const badDisable = await device.auth.disable2fa({ password: 'wrong-password-x', code: totp(setup.secret) }).catch((e: unknown) => e);
      expect(badDisable).toBeInstanceOf(PermissionDeniedError);
      expect((badDisable as PermissionDeniedError).code).toBe('reauthentication_failed');
      t.clock.advance(30_000);
      await device.auth.disable2fa({ password: GOOD_PASSWORD, code: totp(setup.secret) });
      expect((await device.auth.me()).two_factor_enabled).toBe(false);
      await newClient().auth.login({ email, password: GOOD_PASSWORD });
    });
  });

  describe('refresh on 401', () => {
    it('an expired access token is refreshed once and the call retried, transparently', async () => {
      const { email, userId } = await signedIn();
      const changes: (Tokens | null)[] = [];
      const client = newClient({ onTokens: (tokens) => changes.push(tokens) });
      await loginWithExpiredAccessToken(client, email);
      const expired = client.getTokens()!;
      sent.length = 0;

      expect((await client.auth.me()).id).toBe(userId);
      expect(sent).toEqual(['GET /api/v1/auth/me', 'POST /api/v1/auth/refresh', 'GET /api/v1/auth/me']);
      const fresh = client.getTokens()!;
      expect(fresh.accessToken).not.toBe(expired.accessToken);
      expect(fresh.refreshToken).not.toBe(expired.refreshToken);
      expect(changes.at(-1)).toEqual(fresh);

      // A retried request keeps its body.
      const now = t.clock.nowMs();
      t.clock.set(now - 3600_000);
      await client.auth.refresh(); // new tokens, already expired
      t.clock.set(now);
      sent.length = 0;
      const org = await client.orgs.create({ name: 'Made after a refresh', metadata: { via: 'retry' } });
      expect(org).toMatchObject({ name: 'Made after a refresh', metadata: { via: 'retry' } });
      expect(sent).toEqual(['POST /api/v1/orgs', 'POST /api/v1/auth/refresh', 'POST /api/v1/orgs']);
    });

    it('concurrent 401s share one refresh (single flight), and the session survives', async () => {
      const { email, orgId } = await signedIn();
      const client = newClient();
      await loginWithExpiredAccessToken(client, email);
      const sessionId = decodeJwt(client.getTokens()!.accessToken).payload.sid as string;
      sent.length = 0;

      const results = await Promise.all([
        client.auth.me(),
        client.orgs.get(orgId),
        client.orgs.listRoles(orgId),
        client.features.isEnabled('anything', { orgId }),
        client.orgs.list().then((p) => p),
        client.auth.listSessions(),
      ]);
      expect(results).toHaveLength(6);
      expect(refreshesSent()).toBe(1);
      expect(sent).toHaveLength(6 + 1 + 6); // each call: a 401, then its retry
      // One refresh token was spent; presenting it twice would have ended the session (reuse detection).
      const [session] = await t.sql<{ revoked_at: Date | null }>(`SELECT revoked_at FROM sessions WHERE id = $1`, [sessionId]);
      expect(session.revoked_at).toBeNull();
      expect((await client.auth.me()).email).toBe(email);
    });

    it('when the refresh fails, the tokens are cleared and the refresh error is thrown', async () => {
      const { email } = await signedIn();
      const changes: (Tokens | null)[] = [];
      const client = newClient({ onTokens: (tokens) => changes.push(tokens) });
      await loginWithExpiredAccessToken(client, email);
      // Someone else spends the refresh token first (e.g. a stolen copy).
      const spent = await fetch(`${baseUrl}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: client.getTokens()!.refreshToken }),
      });
      expect(spent.status).toBe(200);
      sent.length = 0;

      const error = await client.auth.me().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).code).toBe('refresh_token_reused');
      expect(sent).toEqual(['GET /api/v1/auth/me', 'POST /api/v1/auth/refresh']);
      expect(client.getTokens()).toBeNull();
      expect(changes.at(-1)).toBeNull();

      // Signed out now: no token is sent and nothing is refreshed.
      sent.length = 0;
      const after = await client.auth.me().catch((e: unknown) => e);
      expect((after as AuthenticationError).code).toBe('token_invalid');
      expect(sent).toEqual(['GET /api/v1/auth/me']);
    });

    it('setToken() restores a session; a token that cannot be refreshed is not retried forever', async () => {
      const { client: original, email } = await signedIn();
      const restored = newClient();
      restored.setToken(original.getTokens()!.accessToken, original.getTokens()!.refreshToken);
      expect((await restored.auth.me()).email).toBe(email);

      const bogus = newClient();
      bogus.setToken('not-a-jwt', 'not-a-refresh-token');
      sent.length = 0;
      const e = await bogus.auth.me().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(sent).toEqual(['GET /api/v1/auth/me', 'POST /api/v1/auth/refresh']);
      expect(bogus.getTokens()).toBeNull();
    });
  });

  it('openapi.json names the routes the running API serves, with their operationIds and access', async () => {
    const key = (doc: { paths: Record<string, Record<string, { operationId?: string; 'x-permission'?: string }>> }) =>
      Object.entries(doc.paths)
        .flatMap(([path, ops]) =>
          Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId} ${op['x-permission']}`),
        )
        .sort();
    const committed = JSON.parse(readFileSync(join(process.cwd(), 'openapi.json'), 'utf8'));
    const served = (await (await fetch(`${baseUrl}/docs/openapi.json`)).json()) as typeof committed;
    expect(key(served)).toEqual(key(committed));
  });
});
