/**
 * The built server in embedded mode (no DATABASE_URL), as `npm start` runs it: first start on an empty
 * DATA_DIR, a restart on the same DATA_DIR, and configuration errors that stop the process at start.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, killAll, PASSWORD, register, startServer, tempDir } from './harness';

beforeAll(() => ensureBuilt(), 320_000);
afterAll(() => killAll());

describe('process: embedded mode (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = tempDir('saasready-embedded-');
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves on a fresh DATA_DIR, stops on SIGTERM, and starts again on the same data', async () => {
    // First start: creates the database, the signing key and DATA_DIR/encryption.key.
    // ISSUER_URL defaults to http://localhost:{PORT}; the restart gets another free port, so fix it.
    const env = { DATA_DIR: dataDir, ISSUER_URL: 'http://saasready.test' };
    const first = await startServer(env);
    await first.waitReady();
    expect(first.output).toMatch(/EMBEDDED mode/);
    expect(first.output).toContain(dataDir);

    const user = await register(first);
    const login1 = await first.json('POST', '/api/v1/auth/login', { email: user.email, password: PASSWORD });
    expect(login1.status).toBe(200);
    const me1 = await first.json('GET', '/api/v1/auth/me', undefined, login1.body.access_token);
    expect(me1.status).toBe(200);
    expect(me1.body).toMatchObject({ email: user.email, current_org_role: 'Owner' });
    // The audit rows of both went in with their transactions' commits (CommitQuery over pglite-socket).
    const events = await first.json('GET', '/api/v1/auth/security-events', undefined, login1.body.access_token);
    expect(events.status).toBe(200);
    expect((events.body.data as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining(['user.registered', 'user.logged_in']),
    );

    await first.stopCleanly();

    const keyFile = join(dataDir, 'encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    const key = readFileSync(keyFile, 'utf8');

    // Second start on the same DATA_DIR: same key file, same account, same password.
    const second = await startServer(env);
    await second.waitReady();
    expect(second.output).toMatch(/EMBEDDED mode/);
    const login2 = await second.json('POST', '/api/v1/auth/login', { email: user.email, password: PASSWORD });
    expect(login2.status).toBe(200);
    expect(login2.body.user.id).toBe(me1.body.id);
    const me2 = await second.json('GET', '/api/v1/auth/me', undefined, login2.body.access_token);
    expect(me2.status).toBe(200);
    expect(me2.body.id).toBe(me1.body.id);
    // An access token issued before the restart still verifies: the signing key was kept, not remade.
    expect((await second.json('GET', '/api/v1/auth/me', undefined, login1.body.access_token)).status).toBe(200);
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    await second.stopCleanly();
  }, 400_000);
});

describe('process: a bad configuration stops the process with a message naming the variable', () => {
  const dummyPg = 'postgres://nobody@127.0.0.1:1/none';
  const cases: [string, Record<string, string>, string][] = [
    ['ACCESS_TOKEN_TTL=abc', { ACCESS_TOKEN_TTL: 'abc' }, 'ACCESS_TOKEN_TTL'],
    ['PORT=99999', { PORT: '99999' }, 'PORT'],
    ['DATABASE_URL=mysql://...', { DATABASE_URL: 'mysql://root@127.0.0.1/db' }, 'DATABASE_URL'],
    // Config validation runs before any connection, so an unreachable DATABASE_URL is enough here.
    ['DATABASE_URL without ENCRYPTION_KEY', { DATABASE_URL: dummyPg }, 'ENCRYPTION_KEY'],
  ];

  it.each(cases)(
    '%s',
    async (_title, env, variable) => {
      const dataDir = tempDir('saasready-badcfg-');
      try {
        const server = await startServer({ DATA_DIR: dataDir, ...env });
        await server.waitForExit(90_000);
        server.expectExited({ code: 78, signal: null });
        expect(server.output).toContain(variable);
        expect(server.output).toMatch(/Invalid configuration/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
