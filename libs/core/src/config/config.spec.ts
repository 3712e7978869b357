import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from './config';

const KEY = randomBytes(32).toString('base64');

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'saasready-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A minimal valid embedded-mode environment plus `extra`. */
  const env = (extra: Record<string, string | undefined> = {}) => ({ DATA_DIR: dir, ENCRYPTION_KEY: KEY, ...extra });

  /** Asserts a ConfigError whose message names `variable` (and only it among the given ones). */
  function expectConfigError(extra: Record<string, string>, variable: string): void {
    let error: unknown;
    try {
      loadConfig(env(extra));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`\\b${variable}\\b`));
    for (const other of Object.keys(extra)) if (other !== variable) expect(message).not.toMatch(new RegExp(`\\b${other}:`));
  }

  it('has the documented defaults', () => {
    const c = loadConfig(env());
    expect(c).toMatchObject({
      env: 'development',
      port: 8000,
      databaseMode: 'embedded',
      dataDir: dir,
      appUrl: 'http://localhost:3000',
      issuerUrl: 'http://localhost:8000',
      jwtAudience: 'saasready',
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 30 * 86_400_000,
      invitationTtlMs: 7 * 86_400_000,
      trustProxy: false,
      instanceAdminEmails: [],
      runMigrationsAtStart: true,
    });
    expect(c.argon2.memoryCost).toBeGreaterThanOrEqual(19456);
    expect(c.encryptionKey.equals(Buffer.from(KEY, 'base64'))).toBe(true);
  });

  it('reads the values it is given', () => {
    const c = loadConfig(
      env({
        PORT: '9000',
        ISSUER_URL: 'https://auth.example.com/',
        APP_URL: 'https://app.example.com/',
        JWT_AUDIENCE: 'my-app',
        ACCESS_TOKEN_TTL: '5m',
        REFRESH_TOKEN_TTL: '2d',
        INVITATION_TTL: '2s',
        INSTANCE_ADMIN_EMAILS: ' Root@Example.com, ,ops@example.com ',
      }),
    );
    expect(c).toMatchObject({
      port: 9000,
      issuerUrl: 'https://auth.example.com',
      appUrl: 'https://app.example.com',
      jwtAudience: 'my-app',
      accessTokenTtlMs: 300_000,
      refreshTokenTtlMs: 172_800_000,
      invitationTtlMs: 2_000,
      instanceAdminEmails: ['root@example.com', 'ops@example.com'],
    });
    expect(loadConfig(env({ PORT: '9000' })).issuerUrl).toBe('http://localhost:9000');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['ACCESS_TOKEN_TTL', 'forever'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['REFRESH_TOKEN_TTL', '30 days'],
    ['INVITATION_TTL', '-7d'],
    ['DATABASE_URL', 'mysql://user@host/db'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['SMTP_URL', 'http://mail.example.com'],
    ['ISSUER_URL', 'not a url'],
    ['ISSUER_URL', 'ftp://auth.example.com'],
    ['APP_URL', 'javascript:alert(1)'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['ENCRYPTION_KEY', 'too-short'],
    ['ENCRYPTION_KEY', randomBytes(16).toString('base64')],
    ['ARGON2_MEMORY_KIB', '1024'],
    ['ARGON2_ITERATIONS', '1'],
    ['MIGRATIONS_RUN', 'sometimes'],
    ['TRUST_PROXY', 'yes please'],
    ['TRUST_PROXY', '10.0.0.0/8;rm -rf'],
  ])('a bad %s (%j) is a ConfigError naming it', (variable, value) => {
    expectConfigError({ [variable]: value }, variable);
  });

  it('names each bad variable when several are bad', () => {
    let message = '';
    try {
      loadConfig(env({ PORT: 'x', ACCESS_TOKEN_TTL: 'y' }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/ACCESS_TOKEN_TTL/);
  });

  it('requires ENCRYPTION_KEY with DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@localhost/db' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@localhost/db', ENCRYPTION_KEY: '' })).toThrow(/ENCRYPTION_KEY/);
    const c = loadConfig({ DATABASE_URL: 'postgresql://u@localhost/db', ENCRYPTION_KEY: KEY });
    expect(c.databaseMode).toBe('postgres');
    expect(c.runMigrationsAtStart).toBe(false);
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@localhost/db', ENCRYPTION_KEY: KEY, MIGRATIONS_RUN: 'true' }).runMigrationsAtStart,
    ).toBe(true);
  });

  it('in embedded mode, generates ENCRYPTION_KEY once into DATA_DIR (mode 0600) and reuses it', () => {
    const first = loadConfig({ DATA_DIR: dir });
    const file = join(dir, 'encryption.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.encryptionKey).toHaveLength(32);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first.encryptionKey)).toBe(true);
    expect(loadConfig({ DATA_DIR: dir }).encryptionKey.equals(first.encryptionKey)).toBe(true);
  });

  it('in embedded mode, a corrupt key file or a missing one (when not allowed to create it) is a ConfigError', () => {
    expect(() => loadConfig({ DATA_DIR: dir }, { createDataDir: false })).toThrow(/ENCRYPTION_KEY/);
    writeFileSync(join(dir, 'encryption.key'), 'c2hvcnQ=\n');
    expect(() => loadConfig({ DATA_DIR: dir })).toThrow(ConfigError);
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['false', false],
      ['true', true],
      ['2', 2],
      ['10.0.0.0/8', ['10.0.0.0/8']],
      [' 10.0.0.0/8 , 127.0.0.1,', ['10.0.0.0/8', '127.0.0.1']],
      ['::1,fd00::/8', ['::1', 'fd00::/8']],
      ['loopback, uniquelocal', ['loopback', 'uniquelocal']],
      ['192.168.0.0/255.255.0.0', ['192.168.0.0/255.255.0.0']],
    ])('reads %j', (value, expected) => {
      expect(loadConfig(env({ TRUST_PROXY: value })).trustProxy).toEqual(expected);
    });

    it.each(['yes', 'on', '10.0.0.0/99', '999.1.1.1', '1:2', '::1/129', '10.0.0.0/8/8', '10.0.0.1/255.0.255.0', 'example.com'])(
      'refuses %j at load time (not later, inside Fastify)',
      (value) => {
        expectConfigError({ TRUST_PROXY: value }, 'TRUST_PROXY');
      },
    );
  });
});

describe('loadDotEnv', () => {
  it('reads KEY=value lines without overriding what is set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'saasready-dotenv-'));
    try {
      const file = join(dir, '.env');
      writeFileSync(
        file,
        ['# a comment', 'PORT=9001', 'export LOG_LEVEL="debug"', "APP_URL='http://x.test'", 'SET=from-file', 'bad line'].join('\n'),
      );
      const target: NodeJS.ProcessEnv = { SET: 'from-env' };
      loadDotEnv(target, file);
      expect(target).toEqual({ PORT: '9001', LOG_LEVEL: 'debug', APP_URL: 'http://x.test', SET: 'from-env' });
      loadDotEnv(target, join(dir, 'missing.env'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
