/**
 * The built server and CLI in PostgreSQL mode (DATABASE_URL, production set-up) on a fresh database:
 * the migration gate, `cli.js migration:run`, and `cli.js keys:rotate` seen by running servers.
 */
import {
  DATABASE_URL,
  describeIf,
  ensureBuilt,
  freshDatabase,
  killAll,
  kidOf,
  newEncryptionKey,
  PASSWORD,
  REDIS_URL,
  register,
  runCli,
  Server,
  startServer,
} from './harness';

const ISSUER_URL = 'http://saasready.test';

describeIf(!!DATABASE_URL, 'it needs PostgreSQL; set DATABASE_URL to run it', 'process: PostgreSQL mode', () => {
  let db: { url: string; drop: () => Promise<void> };
  let env: Record<string, string>;
  let server: Server | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    db = await freshDatabase();
    env = { NODE_ENV: 'production', DATABASE_URL: db.url, ENCRYPTION_KEY: newEncryptionKey(), ISSUER_URL };
  }, 320_000);

  afterAll(async () => {
    if (server && !server.exit) await server.stop('SIGTERM').catch(() => undefined);
    killAll();
    await db?.drop();
  }, 60_000);

  it('refuses to serve while migrations are behind, naming migration:run', async () => {
    const s = await startServer(env);
    const exit = await s.waitForExit(90_000);
    expect({ code: exit.code, output: s.output }).toEqual({ code: 1, output: expect.stringContaining('schema is behind') });
    expect(s.output).toMatch(/migration:run/);
    // It never listened.
    await expect(fetch(`${s.url}/health/live`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 120_000);

  // Without ENCRYPTION_KEY, and other bad values: embedded.e2e-spec.ts (config is checked before any connection).

  it('serves after `cli.js migration:run`, which is idempotent', async () => {
    const migrate = await runCli(['migration:run'], env);
    expect({ code: migrate.code, output: migrate.output }).toEqual({ code: 0, output: expect.stringMatching(/applied: Initial/) });
    const again = await runCli(['migration:run'], env);
    expect({ code: again.code, output: again.output }).toEqual({ code: 0, output: expect.stringMatching(/up to date/) });

    server = await startServer(env);
    await server.waitReady();
    expect(server.output).toMatch(/PostgreSQL mode/);
    const user = await register(server);
    expect((await server.json('GET', '/api/v1/auth/me', undefined, user.accessToken)).status).toBe(200);
  }, 240_000);

  it('keys:rotate: a token signed with the new key by another instance verifies on a running one (no Redis)', async () => {
    if (!server) throw new Error('the previous test did not start the server');
    const a = server;
    const user = await register(a);
    const jwksBefore = (await a.json('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwksBefore).toHaveLength(1);
    const oldKid = kidOf(user.accessToken);
    expect(jwksBefore).toEqual([oldKid]);

    const rotate = await runCli(['keys:rotate'], env);
    expect(rotate.code).toBe(0);
    const newKid = /new signing key ([0-9a-f-]{36})/.exec(rotate.output)?.[1];
    expect(newKid).toBeDefined();
    expect(newKid).not.toBe(oldKid);

    // A second instance on the same database signs with the new key ...
    const b = await startServer(env);
    try {
      await b.waitReady();
      const jwksB = (await b.json('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
      expect(jwksB.sort()).toEqual([oldKid, newKid].sort());
      const login = await b.json('POST', '/api/v1/auth/login', { email: user.email, password: PASSWORD });
      expect(login.status).toBe(200);
      expect(kidOf(login.body.access_token)).toBe(newKid);

      // ... and the first instance, which never saw the rotation, verifies it (it reloads on an unknown kid,
      // at most once a second, so allow a few attempts), then publishes both keys.
      const deadline = Date.now() + 10_000;
      let me = await a.json('GET', '/api/v1/auth/me', undefined, login.body.access_token);
      while (me.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        me = await a.json('GET', '/api/v1/auth/me', undefined, login.body.access_token);
      }
      expect(me.status).toBe(200);
      const jwksA = (await a.json('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
      expect(jwksA.sort()).toEqual([oldKid, newKid].sort());

      // Tokens of the previous key stay valid on both until they expire.
      expect((await a.json('GET', '/api/v1/auth/me', undefined, user.accessToken)).status).toBe(200);
      expect((await b.json('GET', '/api/v1/auth/me', undefined, user.accessToken)).status).toBe(200);
    } finally {
      await b.stopCleanly();
    }
  }, 300_000);

  (REDIS_URL ? it : it.skip)(
    'keys:rotate with REDIS_URL: a running instance publishes the new key without any request (Redis message)',
    async () => {
      const withRedis = { ...env, REDIS_URL: REDIS_URL! };
      const c = await startServer(withRedis);
      try {
        await c.waitReady();
        const before: string[] = (await c.json('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
        const rotate = await runCli(['keys:rotate'], withRedis);
        expect(rotate.code).toBe(0);
        const newKid = /new signing key ([0-9a-f-]{36})/.exec(rotate.output)?.[1];
        expect(newKid).toBeDefined();
        expect(before).not.toContain(newKid);

        const deadline = Date.now() + 10_000;
        let kids: string[] = before;
        while (!kids.includes(newKid!) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          kids = (await c.json('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
        }
        expect(kids).toContain(newKid);
        expect(kids.length).toBeGreaterThanOrEqual(2);
      } finally {
        await c.stopCleanly();
      }
    },
    240_000,
  );
  if (!REDIS_URL) console.log('SKIPPED "keys:rotate with REDIS_URL": set REDIS_URL to run it.');
});
