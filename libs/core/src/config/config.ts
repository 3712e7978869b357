import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration';

/** Every environment variable SaaSReady reads. Nothing outside this folder reads process.env. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `must be a duration like 15m, 30d, 2s (got "${v}")` });
        return z.NEVER;
      }
      return ms;
    });

const intInRange = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = /^(\d{1,7})\/(.+)$/.exec(v.trim());
      const windowMs = m ? parseDuration(m[2]) : null;
      if (!m || windowMs === null) {
        ctx.addIssue({ code: 'custom', message: `must be <count>/<duration>, e.g. 30/1m (got "${v}")` });
        return z.NEVER;
      }
      return { limit: Number(m[1]), windowMs };
    });

/** One TRUST_PROXY list entry as Fastify (proxy-addr) compiles it: a named range, an address, address/prefix or IPv4 address/netmask. */
function isTrustedProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, range, ...rest] = entry.split('/');
  const version = isIP(address);
  if (!version || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  if (version !== 4 || isIP(range) !== 4) return false;
  const bits = range.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const inverted = 0xffffffff - bits; // a netmask is ones then zeros: its complement + 1 is a power of two
  return (inverted & (inverted + 1)) === 0;
}

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine(
      (v) => {
        if (v === undefined) return true;
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with protocol ${protocols.join(' or ')}`,
    );

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intInRange(8000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: intInRange(10, 1, 200),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  DATA_DIR: z.string().default('./.data'),
  APP_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:3000'),
  ISSUER_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_AUDIENCE: z.string().min(1).default('saasready'),
  SMTP_URL: optionalUrl(['smtp:', 'smtps:']),
  MAIL_FROM: z.string().default('SaaSReady <no-reply@localhost>'),
  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('30d'),
  INVITATION_TTL: duration('7d'),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): boolean | number | string[] => {
      const s = v.trim();
      if (s === 'false' || s === '') return false;
      if (s === 'true') return true;
      if (/^\d+$/.test(s)) return Number(s);
      const parts = s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const ok = parts.every(isTrustedProxyEntry);
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: 'must be false, true, a hop count, or a comma-separated list of addresses/CIDRs' });
        return z.NEVER;
      }
      return parts;
    }),
  INSTANCE_ADMIN_EMAILS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    ),
  ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARGON2_MEMORY_KIB: intInRange(19456, 19456, 4_194_304),
  ARGON2_ITERATIONS: intInRange(2, 2, 100),
  ARGON2_PARALLELISM: intInRange(1, 1, 16),
  // Hashes computed at once (0: one per CPU); more wait their turn (see PasswordService).
  ARGON2_CONCURRENCY: intInRange(0, 0, 256),
  MIGRATIONS_RUN: z.enum(['auto', 'true', 'false']).default('auto'),
  SHUTDOWN_TIMEOUT: duration('10s'),
  // Per-client-address limits: "<count>/<window>", e.g. 30/1m; 0/1m turns a limit off.
  RATE_LIMIT_LOGIN: rate('30/1m'),
  RATE_LIMIT_REGISTER: rate('10/1m'),
  RATE_LIMIT_REFRESH: rate('120/1m'),
  RATE_LIMIT_PASSWORD: rate('10/1m'),
  RATE_LIMIT_INVITATION_PREVIEW: rate('30/1m'),
  RATE_LIMIT_TWO_FACTOR: rate('30/1m'),
  // Account lockout: after LOCKOUT_THRESHOLD consecutive failures the account is locked for
  // LOCKOUT_BASE, doubling with each further lock up to LOCKOUT_MAX; never permanent.
  LOCKOUT_THRESHOLD: intInRange(5, 1, 10),
  LOCKOUT_BASE: duration('1m'),
  LOCKOUT_MAX: duration('15m'),
  // Days audit rows are kept (the worker prunes older ones daily); unset: kept forever.
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  // Email delivery (libs/mail): outbox relay period, attempts per email, first retry delay (doubling).
  MAIL_RELAY_INTERVAL: duration('5s'),
  MAIL_MAX_ATTEMPTS: intInRange(12, 1, 50),
  MAIL_RETRY_DELAY: duration('2s'),
  // Prefix of the BullMQ keys in Redis (several deployments can share one Redis).
  QUEUE_PREFIX: z
    .string()
    .default('saasready')
    .refine((v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v), 'must be 1 to 64 characters of [A-Za-z0-9_.-]'),
  // The worker's health endpoint (GET /health); 0: any free port (logged at start).
  WORKER_HEALTH_PORT: intInRange(8001, 0, 65535),
});

export type Env = Record<string, string | undefined>;

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** `embedded` runs PGlite in-process; `postgres` uses DATABASE_URL. */
  databaseMode: 'embedded' | 'postgres';
  databaseUrl?: string;
  databasePoolSize: number;
  redisUrl?: string;
  dataDir: string;
  appUrl: string;
  issuerUrl: string;
  jwtAudience: string;
  smtpUrl?: string;
  mailFrom: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  invitationTtlMs: number;
  trustProxy: boolean | number | string[];
  instanceAdminEmails: string[];
  /** 32-byte key; in embedded mode generated once into DATA_DIR. */
  encryptionKey: Buffer;
  logLevel: string;
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number };
  /** Whether the process runs pending migrations itself at start. */
  runMigrationsAtStart: boolean;
  shutdownTimeoutMs: number;
  rateLimits: Record<
    'login' | 'register' | 'refresh' | 'password' | 'invitation_preview' | 'two_factor',
    { limit: number; windowMs: number }
  >;
  lockout: { threshold: number; baseMs: number; maxMs: number };
  /** Days audit rows are kept; undefined: forever. */
  auditRetentionDays?: number;
  /** Email delivery: outbox relay period, attempts per email, first retry delay (doubling each time). */
  mail: { relayIntervalMs: number; maxAttempts: number; retryDelayMs: number };
  /** Prefix of the BullMQ keys in Redis. */
  queuePrefix: string;
  /** Port of the worker's GET /health (0: any free port). */
  workerHealthPort: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` (if present) without overriding variables already set. */
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, file = '.env'): void {
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    let value = (m[2] ?? '').trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    if (env[m[1]] === undefined) env[m[1]] = value;
  }
}

/**
 * Validates the environment once. A bad value throws a ConfigError naming the variable.
 * In embedded mode a missing ENCRYPTION_KEY is generated into DATA_DIR (mode 0600).
 */
export function loadConfig(env: Env = process.env, options: { createDataDir?: boolean } = {}): AppConfig {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const databaseMode = c.DATABASE_URL ? 'postgres' : 'embedded';
  const dataDir = isAbsolute(c.DATA_DIR) ? c.DATA_DIR : resolve(process.cwd(), c.DATA_DIR);
  let encryptionKey: Buffer;
  if (c.ENCRYPTION_KEY) {
    encryptionKey = Buffer.from(c.ENCRYPTION_KEY, 'base64');
  } else if (databaseMode === 'postgres') {
    throw new ConfigError(
      'Invalid configuration:\n  ENCRYPTION_KEY: required when DATABASE_URL is set (32 random bytes, base64; e.g. `openssl rand -base64 32`)',
    );
  } else {
    encryptionKey = embeddedEncryptionKey(dataDir, options.createDataDir ?? true);
  }
  return {
    env: c.NODE_ENV,
    port: c.PORT,
    host: c.HOST,
    databaseMode,
    databaseUrl: c.DATABASE_URL,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    redisUrl: c.REDIS_URL,
    dataDir,
    appUrl: c.APP_URL.replace(/\/+$/, ''),
    issuerUrl: (c.ISSUER_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    jwtAudience: c.JWT_AUDIENCE,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    accessTokenTtlMs: c.ACCESS_TOKEN_TTL,
    refreshTokenTtlMs: c.REFRESH_TOKEN_TTL,
    invitationTtlMs: c.INVITATION_TTL,
    trustProxy: c.TRUST_PROXY,
    instanceAdminEmails: c.INSTANCE_ADMIN_EMAILS,
    encryptionKey,
    logLevel: c.LOG_LEVEL,
    argon2: {
      memoryCost: c.ARGON2_MEMORY_KIB,
      timeCost: c.ARGON2_ITERATIONS,
      parallelism: c.ARGON2_PARALLELISM,
      concurrency: c.ARGON2_CONCURRENCY || availableParallelism(),
    },
    runMigrationsAtStart: c.MIGRATIONS_RUN === 'auto' ? databaseMode === 'embedded' : c.MIGRATIONS_RUN === 'true',
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT,
    rateLimits: {
      login: c.RATE_LIMIT_LOGIN,
      register: c.RATE_LIMIT_REGISTER,
      refresh: c.RATE_LIMIT_REFRESH,
      password: c.RATE_LIMIT_PASSWORD,
      invitation_preview: c.RATE_LIMIT_INVITATION_PREVIEW,
      two_factor: c.RATE_LIMIT_TWO_FACTOR,
    },
    lockout: { threshold: c.LOCKOUT_THRESHOLD, baseMs: c.LOCKOUT_BASE, maxMs: c.LOCKOUT_MAX },
    auditRetentionDays: c.AUDIT_RETENTION_DAYS,
    mail: { relayIntervalMs: c.MAIL_RELAY_INTERVAL, maxAttempts: c.MAIL_MAX_ATTEMPTS, retryDelayMs: c.MAIL_RETRY_DELAY },
    queuePrefix: c.QUEUE_PREFIX,
    workerHealthPort: c.WORKER_HEALTH_PORT,
  };
}

function embeddedEncryptionKey(dataDir: string, create: boolean): Buffer {
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`Invalid configuration:\n  ENCRYPTION_KEY: ${file} does not hold 32 base64 bytes`);
    return key;
  }
  if (!create) throw new ConfigError(`Invalid configuration:\n  ENCRYPTION_KEY: not set and ${file} does not exist`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}
