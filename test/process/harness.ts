/**
 * Process-level harness: runs the BUILT server (`dist/`) and CLI as child processes, the way an
 * operator does, on random free ports and temporary DATA_DIRs or fresh PostgreSQL databases.
 * Every wait is bounded by a deadline; every child is killed at the end of its suite.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** Jest (scripts/test.js) runs from the repository root. */
export const ROOT = process.cwd();
export const API_MAIN = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
export const CLI = join(ROOT, 'dist/apps/api/apps/api/src/cli.js');
export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;
export const PASSWORD = 'violet-otter-harbor-42';

/** `node scripts/ensure-built.js`, once at a time across Jest workers (a lock directory in tmp). */
export async function ensureBuilt(timeoutMs = 300_000): Promise<void> {
  const lock = join(tmpdir(), 'saasready-ensure-built.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the timeout belongs to a dead run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > timeoutMs) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`ensureBuilt: ${lock} held for more than ${timeoutMs} ms`);
      await delay(500);
    }
  }
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/ensure-built.js')], { cwd: ROOT, stdio: 'inherit', timeout: timeoutMs });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(API_MAIN) || !existsSync(CLI)) throw new Error(`the build did not produce ${API_MAIN} and ${CLI}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'saasready-proc-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function newEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

export function uniqueEmail(prefix = 'proc'): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}@example.test`;
}

/**
 * The child's environment: only what is given (plus PATH and HOME), so the test runner's DATABASE_URL,
 * REDIS_URL, ... never leak in. The child runs in a temp directory, so no `.env` file is read.
 */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

const running = new Set<ChildProcess>();
let cwdDir: string | undefined;
/** The children's working directory: empty, so no `.env` is read and relative paths land in tmp. */
function cwd(): string {
  if (!cwdDir || !existsSync(cwdDir)) cwdDir = tempDir('saasready-cwd-');
  return cwdDir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Proc {
  private out = '';
  readonly exited: Promise<Exit>;
  exit?: Exit;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    running.add(child);
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        running.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** stdout and stderr interleaved as received. */
  get output(): string {
    return this.out;
  }

  /** Waits until `pred(output)` holds; throws at the deadline or if the process exits first. */
  async waitForOutput(pred: (out: string) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.out)) {
      if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`);
      await delay(20);
    }
  }

  /** Waits for the exit, at most `timeoutMs`; then SIGKILLs it and throws. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms:\n${this.tail()}`);
    }
    return result;
  }

  /** Asserts the exit status, with the process's output in the failure message. */
  expectExited(expected: Exit): void {
    if (!this.exit || this.exit.code !== expected.code || this.exit.signal !== expected.signal) {
      throw new Error(`${this.name}: expected exit ${JSON.stringify(expected)}, got ${JSON.stringify(this.exit)}:\n${this.tail()}`);
    }
  }

  tail(chars = 4000): string {
    return this.out.length > chars ? `...${this.out.slice(-chars)}` : this.out;
  }
}

/** Runs the built CLI (`cli.js <args>`) to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 120_000,
): Promise<Exit & { output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: cwd(), env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new Proc(child, `cli ${args.join(' ')}`);
  const exit = await p.waitForExit(timeoutMs);
  return { ...exit, output: p.output };
}

export class Server extends Proc {
  constructor(
    child: ChildProcess,
    readonly port: number,
  ) {
    super(child, `api :${port}`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Polls GET /health/ready until 200; throws at the deadline or if the process exits. */
  async waitReady(timeoutMs = 150_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before it was ready:\n${this.tail()}`);
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        this.child.kill('SIGKILL');
        throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.tail()}`);
      }
      await delay(100);
    }
  }

  /** SIGTERM (or another signal), then waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    if (!this.exit) this.child.kill(signal);
    return this.waitForExit(timeoutMs);
  }

  /** SIGTERM; the process must exit with code 0 within the deadline. */
  async stopCleanly(timeoutMs = 30_000): Promise<void> {
    await this.stop('SIGTERM', timeoutMs);
    this.expectExited({ code: 0, signal: null });
  }

  async json(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }
}

/** Spawns `node dist/.../main.js` with exactly `env` (plus HOST, LOG_LEVEL and PORT: a free one unless given). */
export async function startServer(env: Record<string, string | undefined>): Promise<Server> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [API_MAIN], {
    cwd: cwd(),
    env: childEnv({ HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: port }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Server(child, Number(port));
}

/** SIGKILLs every child still running and removes the children's working directory (afterAll). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  if (cwdDir) rmSync(cwdDir, { recursive: true, force: true });
  cwdDir = undefined;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fresh database on the DATABASE_URL server; `drop()` removes it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!DATABASE_URL) throw new Error('freshDatabase needs DATABASE_URL');
  const name = `saasready_proc_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The `kid` of a JWT's header. */
export function kidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;
}

/** Registers a user; returns email and tokens. */
export async function register(
  server: Server,
  email = uniqueEmail(),
): Promise<{ email: string; accessToken: string; refreshToken: string }> {
  const res = await server.json('POST', '/api/v1/auth/register', { email, password: PASSWORD, full_name: 'Process Test' });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return { email, accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
}

/** Skips a describe block with a console line saying why (never silently). */
export function describeIf(condition: boolean, reason: string, name: string, fn: () => void): void {
  if (condition) {
    describe(name, fn);
  } else {
    console.log(`SKIPPED "${name}": ${reason}`);
    describe.skip(name, fn);
  }
}
