import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import { KeyService, TokenService } from '@saasready/auth';
import { createTestApp, TestApp } from '../support/test-app';
import { bearer, decodeJwt, expectProblem, givenUser, GivenUser } from '../support/factories';

/** Rate limits have their own suite; these sign in a lot from one address. */
const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '0/1m', RATE_LIMIT_REGISTER: '0/1m', RATE_LIMIT_REFRESH: '0/1m' };

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Access tokens: shape, claims, the published keys, and every way a forged or stale token is refused. */
describe('auth: access tokens', () => {
  let t: TestApp;
  let u: GivenUser;
  beforeAll(async () => {
    t = await createTestApp({ env: NO_RATE_LIMITS });
    u = await givenUser(t, { fullName: 'Token Owner' });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (headers: Record<string, string>) => t.http().get('/api/v1/auth/me').set(headers);
  const meWith = (token: string) => me(bearer(token));
  /** A token with the real claims of `u`, re-signed with the app's own private key (only `changes` differ). */
  const signWithAppKey = (changes: Record<string, unknown>, options: jwt.SignOptions = {}) => {
    const key = t.app.get(KeyService).signingKey();
    const payload = { ...decodeJwt(u.accessToken).payload, ...changes };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: key.kid, ...options });
  };
  const jwks = async () => (await t.http().get('/.well-known/jwks.json').expect(200)).body as { keys: Record<string, string>[] };

  describe('claims', () => {
    it('carry iss, aud, sub, sid, jti, iat, exp, typ, org_id, org_role, permissions; header RS256 with a published kid', async () => {
      const res = await t.http().post('/api/v1/auth/login').send({ email: u.email, password: u.password }).expect(200);
      const { header, payload } = decodeJwt(res.body.access_token);
      expect(header.alg).toBe('RS256');
      expect((await jwks()).keys.map((k) => k.kid)).toContain(header.kid);
      expect(Object.keys(payload).sort()).toEqual(
        ['aud', 'exp', 'iat', 'iss', 'jti', 'org_id', 'org_role', 'permissions', 'sid', 'sub', 'typ'].sort(),
      );
      const sessions = await t.http().get('/api/v1/auth/sessions').set(bearer(res.body.access_token)).expect(200);
      const current = sessions.body.data.find((s: { current: boolean }) => s.current);
      expect(payload).toEqual({
        iss: 'http://saasready.test',
        aud: 'saasready',
        sub: u.id,
        sid: current.id,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        iat: Math.floor(t.clock.nowMs() / 1000),
        exp: Math.floor(t.clock.nowMs() / 1000) + 900,
        typ: 'access',
        org_id: u.orgId,
        org_role: 'Owner',
        permissions: res.body.user.permissions,
      });
      expect(payload.permissions).toHaveLength(10);
      expect(payload.exp - payload.iat).toBe(res.body.expires_in);
      expect(decodeJwt(u.accessToken).payload.jti).not.toBe(payload.jti);
      expect(decodeJwt(u.accessToken).payload.sid).not.toBe(payload.sid);
    });

    it('verify with any JWT library against the published JWKS (what a host app does)', async () => {
      const { header } = decodeJwt(u.accessToken);
      const jwk = (await jwks()).keys.find((k) => k.kid === header.kid)!;
      const publicKey = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      const claims = jwt.verify(u.accessToken, publicKey, {
        algorithms: ['RS256'],
        audience: 'saasready',
        issuer: 'http://saasready.test',
        clockTimestamp: Math.floor(t.clock.nowMs() / 1000),
      }) as jwt.JwtPayload;
      expect(claims.sub).toBe(u.id);
    });
  });

  describe('GET /.well-known/jwks.json and /openid-configuration', () => {
    it('publishes RSA (>= 2048 bits) public keys only, without a token', async () => {
      const res = await t.http().get('/.well-known/jwks.json').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const k of res.body.keys) {
        expect(k).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: expect.any(String), alg: 'RS256', use: 'sig' });
        expect(Buffer.from(k.n, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
      }
    });

    it('names the issuer and the JWKS location', async () => {
      const res = await t.http().get('/.well-known/openid-configuration').expect(200);
      expect(res.body).toMatchObject({ issuer: 'http://saasready.test', jwks_uri: 'http://saasready.test/.well-known/jwks.json' });
    });

    it('are served outside /api/v1 only', async () => {
      expectProblem(await t.http().get('/api/v1/.well-known/jwks.json'), 404, 'not_found');
    });
  });

  describe('refused tokens: 401 token_invalid', () => {
    it('control: the genuine token works', async () => {
      await meWith(u.accessToken).expect(200);
      await meWith(signWithAppKey({})).expect(200);
    });

    it('alg none (with and without the real kid)', async () => {
      const { header, payload } = decodeJwt(u.accessToken);
      for (const h of [
        { alg: 'none', typ: 'JWT' },
        { alg: 'none', typ: 'JWT', kid: header.kid },
        { alg: 'None', kid: header.kid },
      ]) {
        expectProblem(await meWith(`${b64(h)}.${b64(payload)}.`), 401, 'token_invalid');
        expectProblem(await meWith(`${b64(h)}.${b64(payload)}`), 401, 'token_invalid');
      }
    });

    it('HS256 signed with the RSA public key as the HMAC secret', async () => {
      const { header, payload } = decodeJwt(u.accessToken);
      const jwk = (await jwks()).keys.find((k) => k.kid === header.kid)!;
      const pub = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      const secrets = [
        pub.export({ type: 'spki', format: 'pem' }).toString(),
        pub.export({ type: 'pkcs1', format: 'pem' }).toString(),
        JSON.stringify(jwk),
      ];
      for (const secret of secrets) {
        for (const alg of ['HS256', 'HS512']) {
          const signingInput = `${b64({ alg, typ: 'JWT', kid: header.kid })}.${b64(payload)}`;
          const hash = alg === 'HS256' ? 'sha256' : 'sha512';
          const token = `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`;
          expectProblem(await meWith(token), 401, 'token_invalid');
        }
      }
    });

    it('another RSA algorithm with the right key (RS512, PS256)', async () => {
      expectProblem(await meWith(signWithAppKey({}, { algorithm: 'RS512' })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({}, { algorithm: 'PS256' })), 401, 'token_invalid');
    });

    it('a tampered payload or signature', async () => {
      // The genuine token verified first: it is remembered (keyed by the end of its signature), and a
      // token reusing that signature over another payload must still miss and fail.
      expect((await meWith(u.accessToken)).status).toBe(200);
      const [h, p, s] = u.accessToken.split('.');
      const payload = decodeJwt(u.accessToken).payload;
      const other = await givenUser(t);
      for (const changed of [
        { ...payload, permissions: [...payload.permissions, 'instance.admin'] },
        { ...payload, sub: other.id },
        { ...payload, org_id: other.orgId },
        { ...payload, exp: payload.exp + 3600 },
      ]) {
        expectProblem(await meWith(`${h}.${b64(changed)}.${s}`), 401, 'token_invalid');
      }
      const otherSig = other.accessToken.split('.')[2];
      expectProblem(await meWith(`${h}.${p}.${otherSig}`), 401, 'token_invalid');
      const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
      expectProblem(await meWith(`${h}.${p}.${flipped}`), 401, 'token_invalid');
      expectProblem(await meWith(`${h}.${p}.`), 401, 'token_invalid');
    });

    it('a wrong audience or issuer', async () => {
      expectProblem(await meWith(signWithAppKey({ aud: 'another-app' })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ aud: ['another-app'] })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ aud: undefined })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ iss: 'http://evil.test' })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ iss: 'http://saasready.test/' })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ iss: undefined })), 401, 'token_invalid');
    });

    it('an unknown or missing kid, and a foreign key under our kid', async () => {
      const key = t.app.get(KeyService).signingKey();
      const payload = decodeJwt(u.accessToken).payload;
      expectProblem(await meWith(jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: randomUUID() })), 401, 'token_invalid');
      expectProblem(await meWith(jwt.sign(payload, key.privateKey, { algorithm: 'RS256' })), 401, 'token_invalid');
      const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      expectProblem(await meWith(jwt.sign(payload, foreign, { algorithm: 'RS256', keyid: randomUUID() })), 401, 'token_invalid');
      expectProblem(await meWith(jwt.sign(payload, foreign, { algorithm: 'RS256', keyid: key.kid })), 401, 'token_invalid');
    });

    it('a token that is not an access token (typ), or lacks its claims', async () => {
      expectProblem(await meWith(signWithAppKey({ typ: 'refresh' })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ typ: undefined })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ sid: undefined })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ sub: undefined })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ exp: undefined })), 401, 'token_invalid');
    });

    it("a token whose sid is another user's session, or no session at all", async () => {
      const other = await givenUser(t);
      expectProblem(await meWith(signWithAppKey({ sid: decodeJwt(other.accessToken).payload.sid })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ sid: randomUUID() })), 401, 'token_invalid');
      expectProblem(await meWith(signWithAppKey({ sid: 'not-a-uuid' })), 401, 'token_invalid');
    });

    it('a refresh token used as a Bearer token', async () => {
      expectProblem(await meWith(u.refreshToken), 401, 'token_invalid');
      // and it stays a usable refresh token
      const res = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: u.refreshToken }).expect(200);
      u.refreshToken = res.body.refresh_token;
    });

    it('an access token posted to /auth/refresh (and the session is not harmed)', async () => {
      const res = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: u.accessToken });
      expectProblem(res, 401, 'token_invalid');
      await meWith(u.accessToken).expect(200);
    });

    it.each([
      ['no header', undefined],
      ['an empty header', ''],
      ['the scheme alone', 'Bearer'],
      ['the scheme and a space', 'Bearer '],
      ['Basic credentials', 'Basic dXNlcjpwYXNzd29yZA=='],
      ['another scheme with a good token', 'Token {token}'],
      ['a good token without a scheme', '{token}'],
      ['a good token followed by junk', 'Bearer {token} junk'],
      ['a good token followed by a comma', 'Bearer {token},'],
      ['two tokens', 'Bearer {token} Bearer {token}'],
      ['a token with an extra segment', 'Bearer {token}.e30'],
      ['three garbage segments', 'Bearer a.b.c'],
      ['a non-JWT', 'Bearer not-a-jwt'],
      ['a huge token', `Bearer ${'A'.repeat(6000)}.${'A'.repeat(6000)}.${'A'.repeat(300)}`],
    ])('a malformed Authorization header: %s', async (_name, template) => {
      const headers: Record<string, string> =
        template === undefined ? {} : { Authorization: template.replaceAll('{token}', u.accessToken) };
      const res = await me(headers);
      expectProblem(res, 401, 'token_invalid');
    });
  });

  describe('expired tokens', () => {
    it('an access token past exp is 401 token_expired', async () => {
      const now = t.clock.nowMs();
      const { payload } = decodeJwt(u.accessToken);
      t.clock.set(Date.now() - 3600_000);
      let expired: string;
      try {
        expired = t.app.get(TokenService).signAccess({
          userId: u.id,
          sessionId: payload.sid,
          orgId: u.orgId,
          orgRole: 'Owner',
          permissions: payload.permissions,
        });
      } finally {
        t.clock.set(now);
      }
      expect(decodeJwt(expired).payload.exp * 1000).toBeLessThan(Date.now());
      expectProblem(await meWith(expired), 401, 'token_expired');
      // the same claims, freshly signed, are fine: only the expiry differs
      await meWith(signWithAppKey({ iat: Math.floor(Date.now() / 1000) })).expect(200);
    });

    it('an expired token with a forged signature is token_invalid, not token_expired', async () => {
      const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const payload = { ...decodeJwt(u.accessToken).payload, iat: 1_000_000, exp: 1_000_900 };
      const kid = t.app.get(KeyService).signingKey().kid;
      expectProblem(await meWith(jwt.sign(payload, foreign, { algorithm: 'RS256', keyid: kid })), 401, 'token_invalid');
    });
  });
});
