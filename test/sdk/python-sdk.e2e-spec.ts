/**
 * The Python SDK (sdk/python) against the real API: this suite serves the API on 127.0.0.1 (a free port)
 * and runs the SDK's own unittest suite (`python3 -m unittest discover -s sdk/python/tests -v`) against
 * it, so `npm test` runs them. The Python process runs asynchronously (spawn): the API it calls is
 * served by this very process.
 *
 * Three instances of one deployment (one database, shared signing keys and sessions):
 * - SAASREADY_URL: the API as a host app sees it.
 * - SAASREADY_RATE_LIMITED_URL: the same with RATE_LIMIT_LOGIN=3/1m, for RateLimitError and Retry-After.
 * - SAASREADY_PAST_CLOCK_URL: the same with its clock one hour behind, so every access token it issues is
 *   already expired (exp is checked against the wall clock). The SDK tests sign in there and call
 *   SAASREADY_URL with those tokens, which is how they exercise the automatic refresh without waiting for
 *   a token to expire and without any test-only route.
 *
 * The clocks of the first two follow the wall clock (the Python side computes TOTP codes from its own
 * clock, as an authenticator app does).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { IN_CI } from '../support/env';
import { createTestApp, TestApp } from '../support/test-app';

const ROOT = process.cwd();
const SDK_DIR = join(ROOT, 'sdk/python');
const PYTHON = process.env.SAASREADY_PYTHON || 'python3';
const PYTHON_TIMEOUT_MS = 240_000;

/** The interpreter's version if it runs and is 3.9 or newer; else why not. */
function probePython(): { ok: true; version: string } | { ok: false; reason: string } {
  const r = spawnSync(PYTHON, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return { ok: false, reason: `${PYTHON} does not run (${r.error?.message ?? r.stderr.trim()})` };
  const version = r.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || minor < 9) return { ok: false, reason: `${PYTHON} is Python ${version}; the SDK needs 3.9 or newer` };
  return { ok: true, version };
}

const python = probePython();

/** Makes the instance's clock the wall clock (createTestApp gives every suite a ManualClock). */
function followWallClock(t: TestApp): void {
  t.clock.nowMs = () => Date.now();
  t.clock.now = () => new Date();
}

async function serve(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function runUnittest(env: Record<string, string>): Promise<{ status: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const noProxy = ['127.0.0.1', 'localhost', process.env.NO_PROXY ?? process.env.no_proxy].filter(Boolean).join(',');
    const child: ChildProcess = spawn(PYTHON, ['-m', 'unittest', 'discover', '-s', join(SDK_DIR, 'tests'), '-v'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        PYTHONPATH: [SDK_DIR, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
        NO_PROXY: noProxy,
        no_proxy: noProxy,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      output += `\n[killed: the Python tests ran longer than ${PYTHON_TIMEOUT_MS / 1000} s]`;
      child.kill('SIGKILL');
    }, PYTHON_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, output });
    });
  });
}

if (!python.ok && !IN_CI) {
  console.log(`SKIPPED "Python SDK": ${python.reason}; install Python 3.9+ (or set SAASREADY_PYTHON) to run it (CI always does).`);
}

(python.ok || IN_CI ? describe : describe.skip)('Python SDK (sdk/python) against the live API', () => {
  const apps: TestApp[] = [];
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    if (!python.ok) return;
    const main = await createTestApp();
    apps.push(main);
    const limited = await createTestApp({ shareDatabaseWith: main, env: { RATE_LIMIT_LOGIN: '3/1m' } });
    apps.push(limited);
    const pastClock = await createTestApp({ shareDatabaseWith: main });
    apps.push(pastClock);
    followWallClock(main);
    followWallClock(limited);
    pastClock.clock.set(Date.now() - 3_600_000);
    urls.SAASREADY_URL = await serve(main);
    urls.SAASREADY_RATE_LIMITED_URL = await serve(limited);
    urls.SAASREADY_PAST_CLOCK_URL = await serve(pastClock);
  }, 120_000);

  afterAll(async () => {
    // The instances sharing the database first; the first one drops it.
    for (const t of apps.reverse()) await t.close();
  });

  it('passes its unittest suite (tutorial end to end, errors, tokens and refresh, 2FA, pagination)', async () => {
    if (!python.ok) throw new Error(`CI must run the Python SDK tests: ${python.reason}`);
    const { status, signal, output } = await runUnittest(urls);
    if (status !== 0) throw new Error(`python -m unittest failed (exit ${status ?? signal}):\n${output}`);
    // Every test ran: none skipped for want of an API address.
    expect(output).toMatch(/^Ran \d+ tests? in /m);
    expect(output).toMatch(/^OK$/m);
    console.log(`Python SDK (Python ${python.version}): ${output.trim().split('\n').slice(-3).join(' ').replace(/-+/g, '').trim()}`);
  }, 300_000);
});
