import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHmac, createPublicKey, generateKeyPairSync, JsonWebKey, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as jwt from 'jsonwebtoken';
import request from 'supertest';
import { KeyService } from '@saasready/auth';
import { httpDuration } from '@saasready/core';
import { Authenticated, CurrentUser, type FetchLike, Public, SaaSReadyModule } from '@saasready/nest';
import { BuiltInRole } from '@saasready/rbac';
import { createHostApp } from '../../examples/host-app/src/host-app';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, decodeJwt, expectProblem, givenMember, givenOrg, givenUser, GivenUser, login } from '../support/factories';

const API = '/api/v1';
const JWKS = 'GET /.well-known/jwks.json';
const AUTHZ = 'POST /api/v1/authz/check';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * examples/host-app (a NestJS app using @saasready/nest) pointed at the real SaaSReady service listening
 * on 127.0.0.1, driven with real tokens from the service. The host shares the service's ManualClock, as
 * two machines with synchronized clocks would.
 */
describe('host app with @saasready/nest against the real service', () => {
  let t: TestApp;
  let serviceUrl: string;
  const hosts: NestFastifyApplication[] = [];

  /** A host app with its own (empty) key cache; `calls` lists every request it made to the service. */
  async function startHost(overrides: { saasreadyUrl?: string } = {}) {
    const calls: string[] = [];
    const countingFetch: FetchLike = (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(input).pathname}`);
      return fetch(input, init);
    };
    const app = await createHostApp({
      saasreadyUrl: overrides.saasreadyUrl ?? serviceUrl,
      issuer: t.config.issuerUrl,
      fetch: countingFetch,
      now: () => t.clock.nowMs(),
      logger: false,
    });
    hosts.push(app);
    const server = app.getHttpServer();
    return { app, calls, http: () => request(server), count: (call: string) => calls.filter((c) => c === call).length };
  }
  type Host = Awaited<ReturnType<typeof startHost>>;

  /** Requests the service itself has answered, by route (its own metrics): the server's side of the count. */
  async function serviceHits(route?: string): Promise<number> {
    const { values } = await httpDuration.get();
    return values
      .filter((v) => v.metricName === 'saasready_http_request_duration_seconds_count' && (!route || v.labels.route === route))
      .reduce((sum, v) => sum + v.value, 0);
  }
  /** The service counts a request once its response is written; wait (briefly) for the count to settle. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met within 2 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A session of `user` scoped to `orgId` (POST /auth/switch-org): fresh claims for that org. */
  async function scopedTo(user: { accessToken: string }, orgId: string): Promise<{ accessToken: string; refreshToken: string }> {
    const res = await t.http().post(`${API}/auth/switch-org`).set(bearer(user.accessToken)).send({ org_id: orgId }).expect(200);
    return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
  }
  async function refreshed(refreshToken: string): Promise<{ accessToken: string; refreshToken: string }> {
    const res = await t.http().post(`${API}/auth/refresh`).send({ refresh_token: refreshToken }).expect(200);
    return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
  }
  /** A token with `user`'s genuine claims but `changes`, signed with the service's own current key. */
  function resigned(token: string, changes: Record<string, unknown>, options: jwt.SignOptions = {}): string {
    const key = t.app.get(KeyService).signingKey();
    const payload = { ...decodeJwt(token).payload, ...changes };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: key.kid, ...options });
  }

  let owner: GivenUser; // Owner of owner.orgId, token scoped there
  let member: { id: string; accessToken: string }; // Member of owner.orgId, token scoped there
  let outsider: GivenUser; // Owner of another org only
  let host: Host;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    serviceUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    owner = await givenUser(t, { fullName: 'Olivia Owner' });
    const m = await givenMember(t, { id: owner.orgId }, 'Member');
    member = { id: m.id, ...(await scopedTo(m, owner.orgId)) };
    outsider = await givenUser(t, { fullName: 'Oscar Outsider' });
    host = await startHost();
  });
  afterAll(async () => {
    for (const app of hosts) await app.close().catch(() => undefined);
    await t?.close();
  });

  describe('authentication', () => {
    it('a @Public route needs no token; the others answer 401 token_invalid as problem+json without one', async () => {
      expect((await host.http().get('/health').expect(200)).body).toEqual({ status: 'ok' });
      for (const headers of [
        {},
        { Authorization: 'Bearer' },
        { Authorization: `Basic ${b64('a:b')}` },
        { Authorization: 'Bearer not-a-jwt' },
      ]) {
        const res = await host.http().get('/projects').set(headers);
        expectProblem(res, 401, 'token_invalid');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
      expectProblem(await host.http().get('/me'), 401, 'token_invalid');
    });

    it('@CurrentUser() is the caller of the token: user, session, org, role and permissions', async () => {
      const res = await host.http().get('/me').set(owner.auth).expect(200);
      const claims = decodeJwt(owner.accessToken).payload;
      expect(res.body).toEqual({
        user_id: owner.id,
        session_id: claims.sid,
        org_id: owner.orgId,
        role: 'Owner',
        permissions: claims.permissions,
      });
      expect(res.body.permissions).toContain('org.delete');
      const m = await host.http().get('/me').set(bearer(member.accessToken)).expect(200);
      expect(m.body).toMatchObject({ user_id: member.id, org_id: owner.orgId, role: 'Member' });
      expect(m.body.permissions).not.toContain('org.delete');
    });

    it('forged, altered or misused tokens are 401 token_invalid', async () => {
      const genuine = owner.accessToken;
      const { header, payload } = decodeJwt(genuine);
      const [h, p, s] = genuine.split('.');
      const jwk = (await t.http().get('/.well-known/jwks.json').expect(200)).body.keys.find((k: { kid: string }) => k.kid === header.kid);
      const publicPem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      const hmac = (alg: 'HS256' | 'HS512', secret: string) => {
        const input = `${b64({ alg, typ: 'JWT', kid: header.kid })}.${b64(payload)}`;
        return `${input}.${createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret)
          .update(input)
          .digest('base64url')}`;
      };
      const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const escalated = { ...payload, permissions: [...payload.permissions, 'org.delete'], org_id: outsider.orgId };

      const refused: Record<string, string> = {
        'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: header.kid })}.${b64(payload)}.`,
        'HS256 with the public key (PEM) as secret': hmac('HS256', publicPem),
        'HS512 with the JWK as secret': hmac('HS512', JSON.stringify(jwk)),
        'RS512 with the right key': resigned(genuine, {}, { algorithm: 'RS512' }),
        'PS256 with the right key': resigned(genuine, {}, { algorithm: 'PS256' }),
        'payload altered, signature kept': `${h}.${b64(escalated)}.${s}`,
        "another user's signature": `${h}.${p}.${outsider.accessToken.split('.')[2]}`,
        'no signature': `${h}.${p}.`,
        'wrong audience': resigned(genuine, { aud: 'another-app' }),
        'no audience': resigned(genuine, { aud: undefined }),
        'wrong issuer': resigned(genuine, { iss: 'http://evil.test' }),
        'typ refresh': resigned(genuine, { typ: 'refresh' }),
        'no typ': resigned(genuine, { typ: undefined }),
        'no exp': resigned(genuine, { exp: undefined }),
        'no sub': resigned(genuine, { sub: undefined }),
        'permissions not a list': resigned(genuine, { permissions: 'org.delete' }),
        'not yet valid (nbf in 1 h)': resigned(genuine, { nbf: Math.floor(t.clock.nowMs() / 1000) + 3600 }),
        'a foreign key under a made-up kid': jwt.sign(payload, foreignKey, { algorithm: 'RS256', keyid: randomUUID() }),
        "a foreign key under the service's kid": jwt.sign(payload, foreignKey, { algorithm: 'RS256', keyid: header.kid }),
        'the right key without kid': jwt.sign(payload, t.app.get(KeyService).signingKey().privateKey, { algorithm: 'RS256' }),
        'a refresh token': owner.refreshToken,
      };
      for (const [name, token] of Object.entries(refused)) {
        const res = await host.http().get('/me').set(bearer(token));
        if (res.status !== 401) throw new Error(`${name}: expected 401, got ${res.status} ${JSON.stringify(res.body)}`);
        expectProblem(res, 401, 'token_invalid');
      }
      // control: the same route and a token re-signed with unchanged claims are fine
      await host
        .http()
        .get('/me')
        .set(bearer(resigned(genuine, {})))
        .expect(200);
    });

    it('a token past its exp (signed by the service) is 401 token_expired', async () => {
      const now = Math.floor(t.clock.nowMs() / 1000);
      expectProblem(
        await host
          .http()
          .get('/me')
          .set(bearer(resigned(owner.accessToken, { iat: now - 1000, exp: now - 60 }))),
        401,
        'token_expired',
      );
    });
  });

  describe('authorization from the token (fast path)', () => {
    it('the Owner creates and deletes; a Member lists but gets 403 permission_denied on create and delete', async () => {
      const created = await host.http().post('/projects').set(owner.auth).send({ name: 'Apollo' }).expect(201);
      expect(created.body).toMatchObject({ name: 'Apollo', org_id: owner.orgId, created_by: owner.id });
      const listed = await host.http().get('/projects').set(bearer(member.accessToken)).expect(200);
      expect(listed.body.data.map((x: { id: string }) => x.id)).toContain(created.body.id);

      expectProblem(await host.http().delete(`/projects/${created.body.id}`).set(bearer(member.accessToken)), 403, 'permission_denied');
      expectProblem(await host.http().post('/projects').set(bearer(member.accessToken)).send({ name: 'Nope' }), 403, 'permission_denied');
      await host.http().get('/projects').set(owner.auth).expect(200);

      await host.http().delete(`/projects/${created.body.id}`).set(owner.auth).expect(204);
      expectProblem(await host.http().delete(`/projects/${created.body.id}`).set(owner.auth), 404, 'not_found');
    });

    it("a token of another org cannot act on an org's routes: 403 on its path, and its data is out of reach", async () => {
      const project = (await host.http().post('/projects').set(owner.auth).send({ name: 'Private' }).expect(201)).body;
      // another user's org in the path: 403, nothing listed
      expectProblem(await host.http().get(`/orgs/${owner.orgId}/projects`).set(outsider.auth), 403, 'permission_denied');
      await host.http().get(`/orgs/${outsider.orgId}/projects`).set(outsider.auth).expect(200, { data: [] });
      // token-scoped routes use the token's org: the outsider's org has no such project
      expectProblem(await host.http().delete(`/projects/${project.id}`).set(outsider.auth), 404, 'not_found');
      const mine = await host.http().get(`/orgs/${owner.orgId}/projects`).set(owner.auth).expect(200);
      expect(mine.body.data.map((x: { id: string }) => x.id)).toContain(project.id);

      // the owner of two orgs: the token speaks for its current org only, until they switch
      const second = await givenOrg(t, owner);
      expectProblem(await host.http().get(`/orgs/${second.id}/projects`).set(owner.auth), 403, 'permission_denied');
      const there = await scopedTo(owner, second.id);
      await host.http().get(`/orgs/${second.id}/projects`).set(bearer(there.accessToken)).expect(200);
      expectProblem(await host.http().get(`/orgs/${owner.orgId}/projects`).set(bearer(there.accessToken)), 403, 'permission_denied');
    });

    it('fetches the JWKS once for many requests, and makes no other call to the service per request', async () => {
      const fresh = await startHost();
      const jwksBefore = await serviceHits('/.well-known/jwks.json');
      const totalBefore = await serviceHits();
      const tokens = [owner.accessToken, member.accessToken, outsider.accessToken];
      for (let i = 0; i < 20; i++) {
        const token = tokens[i % 3];
        await fresh.http().get('/me').set(bearer(token)).expect(200);
        await fresh.http().get('/projects').set(bearer(token)).expect(200);
        await fresh
          .http()
          .get(`/orgs/${owner.orgId}/billing`)
          .set(bearer(token))
          .expect(token === outsider.accessToken ? 403 : 200);
      }
      await fresh.http().delete(`/projects/${randomUUID()}`).set(bearer(member.accessToken)).expect(403);
      expect(fresh.calls).toEqual([JWKS]);
      // the service's side: one JWKS request, and nothing else, in 61 authenticated requests
      await eventually(async () => (await serviceHits('/.well-known/jwks.json')) === jwksBefore + 1);
      expect(await serviceHits()).toBe(totalBefore + 1);
    });
  });

  describe('signing keys', () => {
    it('after the service rotates its key, a token with the new kid is accepted after one JWKS refetch; old tokens keep working', async () => {
      const h = await startHost();
      await h.http().get('/me').set(owner.auth).expect(200);
      expect(h.calls).toEqual([JWKS]);

      const oldKid = decodeJwt(owner.accessToken).header.kid;
      const newKid = await t.app.get(KeyService).rotate();
      expect(newKid).not.toBe(oldKid);
      const after = await login(t, owner.email, owner.password);
      expect(decodeJwt(after.accessToken).header.kid).toBe(newKid);

      await h.http().get('/me').set(after.auth).expect(200);
      expect(h.count(JWKS)).toBe(2);
      for (let i = 0; i < 10; i++) {
        await h.http().get('/me').set(after.auth).expect(200);
        await h.http().get('/me').set(owner.auth).expect(200); // signed with the retired key, still published
      }
      expect(h.calls).toEqual([JWKS, JWKS]);
    });

    it('tokens with made-up kids make at most one JWKS refetch per cooldown (10 s), however many arrive', async () => {
      const h = await startHost();
      await h.http().get('/me').set(owner.auth).expect(200);
      const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const payload = decodeJwt(owner.accessToken).payload;
      const spam = () => jwt.sign(payload, foreign, { algorithm: 'RS256', keyid: randomUUID() });

      await Promise.all(
        Array.from({ length: 10 }, async () => expectProblem(await h.http().get('/me').set(bearer(spam())), 401, 'token_invalid')),
      );
      for (let i = 0; i < 10; i++) expectProblem(await h.http().get('/me').set(bearer(spam())), 401, 'token_invalid');
      expect(h.calls).toEqual([JWKS, JWKS]);

      t.clock.advance(10_000);
      for (let i = 0; i < 10; i++) expectProblem(await h.http().get('/me').set(bearer(spam())), 401, 'token_invalid');
      expect(h.calls).toEqual([JWKS, JWKS, JWKS]);
      await h.http().get('/me').set(owner.auth).expect(200);
      expect(h.count(JWKS)).toBe(3);
    });

    it('a service that cannot be reached: token routes answer 503 service_unavailable, public routes still work', async () => {
      const closed = await startHost({ saasreadyUrl: 'http://127.0.0.1:1' });
      await closed.http().get('/health').expect(200);
      expectProblem(await closed.http().get('/me').set(owner.auth), 503, 'service_unavailable');
      // a failed fetch is not retried within the cooldown
      expectProblem(await closed.http().get('/me').set(owner.auth), 503, 'service_unavailable');
      expect(closed.calls).toEqual([JWKS]);
      // garbage is refused before any key is needed
      expectProblem(
        await closed
          .http()
          .get('/me')
          .set(bearer(`${b64({ alg: 'none' })}.${b64({})}.`)),
        401,
        'token_invalid',
      );
    });
  });

  describe('fresh answers (fresh: true asks the service) and revocation', () => {
    it('a role change shows at once on the fresh route; the claims-based route follows when the token is refreshed', async () => {
      const m = await givenMember(t, { id: owner.orgId }, 'Admin');
      let admin = await scopedTo(m, owner.orgId);
      const billing = (token: string, plan = 'pro') => host.http().put(`/orgs/${owner.orgId}/billing`).set(bearer(token)).send({ plan });
      const createProject = (token: string) => host.http().post('/projects').set(bearer(token)).send({ name: 'By admin' });

      const before = host.count(AUTHZ);
      await billing(admin.accessToken, 'pro').expect(200, { org_id: owner.orgId, plan: 'pro' });
      await billing(admin.accessToken, 'enterprise').expect(200);
      expect(host.count(AUTHZ)).toBe(before + 2); // one check per request: nothing cached
      await createProject(admin.accessToken).expect(201);

      await t
        .http()
        .patch(`${API}/orgs/${owner.orgId}/members/${m.id}`)
        .set(owner.auth)
        .send({ role_id: BuiltInRole.Member.id })
        .expect(200);

      expectProblem(await billing(admin.accessToken), 403, 'permission_denied');
      // the claims still say Admin until the token is replaced (at most ACCESS_TOKEN_TTL)
      await createProject(admin.accessToken).expect(201);
      admin = await refreshed(admin.refreshToken);
      expect(decodeJwt(admin.accessToken).payload.org_role).toBe('Member');
      expectProblem(await createProject(admin.accessToken), 403, 'permission_denied');
      await host.http().get('/projects').set(bearer(admin.accessToken)).expect(200);
      // the fresh route refuses without a project being changed
      await host
        .http()
        .get(`/orgs/${owner.orgId}/billing`)
        .set(bearer(admin.accessToken))
        .expect(200, { org_id: owner.orgId, plan: 'enterprise' });
    });

    it('a removed member: the fresh route answers 403 at once; the claims-based route until the token is refreshed', async () => {
      const m = await givenMember(t, { id: owner.orgId }, 'Admin');
      let s = await scopedTo(m, owner.orgId);
      await host.http().put(`/orgs/${owner.orgId}/billing`).set(bearer(s.accessToken)).send({ plan: 'pro' }).expect(200);

      await t.http().delete(`${API}/orgs/${owner.orgId}/members/${m.id}`).set(owner.auth).expect(204);

      expectProblem(
        await host.http().put(`/orgs/${owner.orgId}/billing`).set(bearer(s.accessToken)).send({ plan: 'free' }),
        403,
        'permission_denied',
      );
      await host.http().get('/projects').set(bearer(s.accessToken)).expect(200); // stale claims
      s = await refreshed(s.refreshToken);
      expect(decodeJwt(s.accessToken).payload.org_id).toBeNull();
      expectProblem(await host.http().get('/projects').set(bearer(s.accessToken)), 403, 'permission_denied');
      expectProblem(await host.http().get(`/orgs/${owner.orgId}/projects`).set(bearer(s.accessToken)), 403, 'permission_denied');
    });

    it('a signed-out session: the fresh route answers 401 session_revoked at once; local verification accepts the token until it expires', async () => {
      const session = await login(t, owner.email, owner.password);
      await host.http().put(`/orgs/${owner.orgId}/billing`).set(session.auth).send({ plan: 'pro' }).expect(200);
      await t.http().post(`${API}/auth/logout`).set(session.auth).expect(204);

      expectProblem(await host.http().put(`/orgs/${owner.orgId}/billing`).set(session.auth).send({ plan: 'free' }), 401, 'session_revoked');
      await host.http().get('/me').set(session.auth).expect(200);
      // the other sessions are untouched
      await host.http().put(`/orgs/${owner.orgId}/billing`).set(owner.auth).send({ plan: 'pro' }).expect(200);
    });
  });

  describe('deny by default (the module without the example)', () => {
    @Controller('x')
    class MixedController {
      @Public()
      @Get('open')
      open() {
        return { ok: true };
      }

      @Authenticated()
      @Get('me')
      me(@CurrentUser('userId') userId: string) {
        return { user_id: userId };
      }

      @Get('forgotten')
      forgotten() {
        return { leaked: true };
      }
    }

    /** The options from forRootAsync's factory, as an app reading its ConfigService would. */
    const build = async (undeclaredRoutes: 'throw' | 'warn') => {
      @Module({
        imports: [
          SaaSReadyModule.forRootAsync({
            useFactory: async () => ({ baseUrl: serviceUrl, issuer: t.config.issuerUrl, undeclaredRoutes, now: () => t.clock.nowMs() }),
          }),
        ],
        controllers: [MixedController],
      })
      class AppModule {}
      const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false, abortOnError: false });
      hosts.push(app);
      return app;
    };

    it('a route with no access rule stops the app at start-up', async () => {
      const app = await build('throw');
      await expect(app.init()).rejects.toThrow(/MixedController\.forgotten/);
    });

    it("with undeclaredRoutes: 'warn' it starts, and the route is refused even with a valid token", async () => {
      const app = await build('warn');
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const http = () => request(app.getHttpServer());
      await http().get('/x/open').expect(200);
      await http().get('/x/me').set(owner.auth).expect(200, { user_id: owner.id });
      expectProblem(await http().get('/x/me'), 401, 'token_invalid');
      expectProblem(await http().get('/x/forgotten').set(owner.auth), 403, 'permission_denied');
    });
  });

  // Last: moves the shared clock past an access-token lifetime.
  describe('expiry', () => {
    it('a token is refused with 401 token_expired once ACCESS_TOKEN_TTL (plus the 5 s tolerance) has passed', async () => {
      const session = await login(t, owner.email, owner.password);
      t.clock.advance(t.config.accessTokenTtlMs);
      await host.http().get('/me').set(session.auth).expect(200); // within the tolerance
      t.clock.advance(6_000);
      expectProblem(await host.http().get('/me').set(session.auth), 401, 'token_expired');
    });
  });
});
