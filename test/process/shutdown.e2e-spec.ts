/**
 * Graceful shutdown of the built server: SIGTERM while logins are in flight lets them finish (200),
 * then the process exits 0. On PostgreSQL when DATABASE_URL is set, else in embedded mode.
 */
import { rmSync } from 'node:fs';
import {
  DATABASE_URL,
  ensureBuilt,
  freshDatabase,
  killAll,
  newEncryptionKey,
  PASSWORD,
  register,
  Server,
  startServer,
  tempDir,
} from './harness';

const IN_FLIGHT = 4;

beforeAll(() => ensureBuilt(), 320_000);
afterAll(() => killAll());

async function sigtermDuringLogins(server: Server): Promise<void> {
  const user = await register(server);
  const before = server.output.length;
  const loginLines = () => server.output.slice(before).match(/"url":"\/api\/v1\/auth\/login"/g)?.length ?? 0;

  const logins = Array.from({ length: IN_FLIGHT }, () =>
    fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
      signal: AbortSignal.timeout(60_000),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { access_token?: string } })),
  );
  // Every login has reached the server (its "incoming request" log line) before the signal goes.
  await server.waitForOutput(() => loginLines() >= IN_FLIGHT, 30_000, `${IN_FLIGHT} incoming logins`);
  server.child.kill('SIGTERM');

  const results = await Promise.all(logins);
  expect(results.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
  for (const r of results) expect(r.body.access_token).toEqual(expect.any(String));
  await server.waitForExit(30_000);
  server.expectExited({ code: 0, signal: null });

  // Not vacuous: at least one login completed after the process logged the signal.
  const out = server.output.slice(before);
  const signalAt = out.indexOf('SIGTERM received');
  expect(signalAt).toBeGreaterThanOrEqual(0);
  const completedAfter = out.slice(signalAt).match(/"statusCode":200/g)?.length ?? 0;
  expect(completedAfter).toBeGreaterThanOrEqual(1);
}

// argon2id with more passes than the default, so a login takes long enough to be caught in flight.
const SLOW = { LOG_LEVEL: 'info', ARGON2_ITERATIONS: '12' };

describe('process: graceful shutdown', () => {
  // One mode is enough for the drain logic (main.ts); PostgreSQL when available (the production set-up
  // and the faster start), else embedded. The embedded smoke test also checks SIGTERM => exit 0.
  const mode = DATABASE_URL ? 'PostgreSQL mode' : 'embedded mode (DATABASE_URL unset)';

  it(`${mode}: SIGTERM while logins are in flight => they answer 200, then exit 0`, async () => {
    const dataDir = tempDir('saasready-shutdown-');
    const db = DATABASE_URL ? await freshDatabase() : undefined;
    try {
      const env = db
        ? { NODE_ENV: 'production', DATABASE_URL: db.url, ENCRYPTION_KEY: newEncryptionKey(), MIGRATIONS_RUN: 'true' }
        : { DATA_DIR: dataDir };
      const server = await startServer({ ...SLOW, ...env });
      await server.waitReady();
      try {
        await sigtermDuringLogins(server);
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${server.name} output ---\n${server.tail(6000)}`, { cause: e });
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await db?.drop();
    }
  }, 300_000);
});
