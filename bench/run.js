#!/usr/bin/env node
/**
 * `npm run bench`: throughput and latency of the built API in production mode, next to two bounds
 * measured in the same run: a minimal Nest 12 + Fastify "hello" app (the HTTP ceiling of this machine)
 * and argon2id hashing (the bound of login). See bench/README.md.
 *
 * - PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); a fresh database
 *   `saasready_bench_<random>` is created, migrated with `cli.js migration:run`, and dropped at the end.
 * - Redis: REDIS_URL (default redis://127.0.0.1:6379, logical database BENCH_REDIS_DB=9 unless the URL
 *   names one) when it answers PING, else none.
 * - autocannon on loopback; every scenario: BENCH_WARMUP s (default 2) then BENCH_DURATION s (default 6).
 * - A scenario whose route answers 404 is skipped with a note (routes still being built).
 * Scenarios are the SCENARIOS list below; add one there.
 */
'use strict';

const os = require('node:os');
// Before anything touches libuv's pool: argon2 runs there, one hash per CPU in parallel.
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || String(Math.max(4, os.cpus().length));

const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const autocannon = require('autocannon');
const argon2 = require('argon2');
const { Client } = require('pg');

const ROOT = path.join(__dirname, '..');
const API_MAIN = path.join(ROOT, 'dist/apps/api/apps/api/src/main.js');
const CLI = path.join(ROOT, 'dist/apps/api/apps/api/src/cli.js');
const DURATION = Number(process.env.BENCH_DURATION || 6);
const WARMUP = Number(process.env.BENCH_WARMUP || 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
/**
 * CPU pinning (BENCH_PIN=0 turns it off): the servers (API, hello) run on the last CPU and the load
 * generator (this process) on the others, so that they do not trade places on the same cores. Unpinned,
 * the hello route and the API varied by 30 % between runs a minute apart on this 2-CPU VM.
 */
const CPUS = os.cpus().length;
const PIN = process.env.BENCH_PIN !== '0' && CPUS >= 2 && spawnSync('taskset', ['-V']).status === 0;
const SERVER_CPUS = String(CPUS - 1);
const LOAD_CPUS = CPUS > 2 ? `0-${CPUS - 2}` : '0';
const ALL_CPUS = `0-${CPUS - 1}`;

/** Sets the CPU affinity of every thread of a process (taskset -a -p). */
function pinTo(pid, cpus) {
  if (PIN) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * The local PostgreSQL and Redis (when DATABASE_URL / REDIS_URL name this host) run beside the load
 * generator, not on the servers' CPU: deployed, the API's core is its own and the database another
 * machine's. Left to float, PostgreSQL's backends were woken onto the API's core (the API wakes them)
 * and every database-heavy scenario measured the API and PostgreSQL sharing one core. Each process's
 * affinity is read first and put back at the end (`restoreServices`), also on Ctrl-C.
 * BENCH_PIN_SERVICES=0 leaves them floating (servers and load generator still pinned).
 */
const PIN_SERVICES = PIN && process.env.BENCH_PIN_SERVICES !== '0';
const serviceAffinity = new Map();
function pinServices(cpus, { postgres, redis }) {
  if (!PIN_SERVICES) return;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue; // gone
    }
    if (!((postgres && comm === 'postgres') || (redis && comm === 'redis-server'))) continue;
    if (!serviceAffinity.has(entry)) {
      const mask = /affinity mask: ([0-9a-f]+)/.exec(spawnSync('taskset', ['-p', entry], { encoding: 'utf8' }).stdout ?? '')?.[1];
      if (!mask) continue;
      serviceAffinity.set(entry, mask);
    }
    // Another user's processes (not running as root or their owner): taskset refuses, and the report says so.
    if (spawnSync('taskset', ['-a', '-p', '-c', cpus, entry], { stdio: 'ignore' }).status === 0) pinnedComms.add(comm);
  }
}
const pinnedComms = new Set();
/** For the report: which services were actually pinned. */
function pinnedServices() {
  const names = [pinnedComms.has('postgres') && 'PostgreSQL', pinnedComms.has('redis-server') && 'Redis'].filter(Boolean);
  return names.length ? `, ${names.join(' and ')}` : '';
}
function restoreServices() {
  for (const [pid, mask] of serviceAffinity) spawnSync('taskset', ['-a', '-p', mask, pid], { stdio: 'ignore' });
  serviceAffinity.clear();
}
/** Is a service URL on this host (so that its processes can be pinned)? */
function isLocal(url) {
  try {
    const host = new URL(url).hostname;
    return ['127.0.0.1', 'localhost', '[::1]', '::1', ''].includes(host);
  } catch {
    return false;
  }
}
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = benchRedisUrl(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'violet-otter-harbor-42';
const ADMIN_ROLE = '00000000-0000-7000-8000-000000000002'; // built-in Admin (migrations/1764403200000-initial.ts)
const MEMBER_ROLE = '00000000-0000-7000-8000-000000000003';
const ORGS = 1000;
const AUDIT_ROWS = Number(process.env.BENCH_AUDIT_ROWS || 1_000_000);
const USERS = 20; // registered through the API (personal org each); they hold the (user, org) pairs below
const NO_LIMITS = '9999999/1s';
/** BENCH_ONLY=me,authz runs just those scenarios (with hello, the ceiling, and what they need). */
const ONLY = process.env.BENCH_ONLY ? new Set(['hello', ...process.env.BENCH_ONLY.split(',').map((x) => x.trim())]) : null;
/** Extra node flags for the API process only, e.g. BENCH_API_NODE_ARGS=--cpu-prof (profiling a run). */
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS || '').split(' ').filter(Boolean);

/**
 * The bench's Redis gets its own logical database (BENCH_REDIS_DB, default 9) unless the URL names one:
 * rate-limit counters (keyed by client address, 127.0.0.1 for every local process) and BullMQ queues
 * would otherwise be shared with whatever else runs on that Redis (e.g. e2e suites: they would get 429s).
 */
function benchRedisUrl(url) {
  try {
    const u = new URL(url);
    if (u.pathname === '' || u.pathname === '/') u.pathname = `/${process.env.BENCH_REDIS_DB || 9}`;
    return u.toString();
  } catch {
    return url;
  }
}

// ------------------------------------------------------------------------------------------------
// Scenarios. `target`: 'hello' or 'api'. `requests(ctx)`: autocannon `requests` (round-robin through
// setupRequest). `goal`: { of: 'hello' | 'argon2', min } as a fraction. `before(ctx)`: set-up step.
// `prime(ctx)`: send that many requests once before the warm-up (fills per-(user, org) caches).
// `run(ctx)`: a scenario that is not HTTP (returns { rps, p50, p99, ... }). `warmup` (s) and `rounds`:
// at least that much warm-up, and that many alternating slices (of BENCH_DURATION / BENCH_ROUNDS s).
// ------------------------------------------------------------------------------------------------

/** One autocannon request that walks `items` round-robin, building each request with `build(item)`. */
function roundRobin(items, build) {
  let i = 0;
  return [
    {
      setupRequest: (req) => {
        const item = items[i++ % items.length];
        return Object.assign(req, build(item));
      },
    },
  ];
}

const json = (method, pathname, token, body) => ({
  method,
  path: pathname,
  headers: {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  },
  body: body !== undefined ? JSON.stringify(body) : undefined,
});

const SCENARIOS = [
  {
    id: 'hello',
    name: 'GET /hello (minimal Nest 12 + Fastify)',
    target: 'hello',
    requests: () => [{ method: 'GET', path: '/hello' }],
  },
  {
    // The API's lightest route (public, no database): what the API's global pipeline costs per request.
    id: 'live',
    name: 'GET /health/live (API, no auth, no DB)',
    requests: () => [{ method: 'GET', path: '/health/live' }],
  },
  { id: 'argon2', name: `argon2id hash m=19456,t=2,p=1 (x${os.cpus().length} parallel)`, run: argon2Bound, allCpus: true },
  {
    id: 'login',
    name: 'POST /api/v1/auth/login',
    connections: 16,
    // The argon2 bound uses every CPU, and so does login (libuv's pool hashes in parallel).
    allCpus: true,
    goal: { of: 'argon2', min: 0.8 },
    // Compared with argon2 bound slices in alternation (seconds apart, like the others with hello): the bound
    // measured a minute earlier drifted with the VM and moved the ratio by 15 points from run to run.
    partnerRun: (ctx, seconds) => argon2Bound(ctx, seconds),
    requests: (ctx) => roundRobin(ctx.users, (u) => json('POST', '/api/v1/auth/login', null, { email: u.email, password: PASSWORD })),
  },
  {
    id: 'refresh',
    name: 'POST /api/v1/auth/refresh (fresh token each)',
    requests: (ctx) => refreshRequests(ctx),
  },
  {
    id: 'me',
    name: 'GET /api/v1/auth/me',
    goal: { of: 'hello', min: 0.35 },
    requests: (ctx) => roundRobin(ctx.users, (u) => json('GET', '/api/v1/auth/me', u.token)),
  },
  {
    id: 'org-get-1k',
    name: 'GET /api/v1/orgs/{id} (1k orgs, 1k memberships)',
    before: (ctx) => seed(ctx, 1_000),
    prime: (ctx) => ctx.pairs.length,
    goal: { of: 'hello', min: 0.3 },
    requests: (ctx) => roundRobin(ctx.pairs, (p) => json('GET', `/api/v1/orgs/${p.orgId}`, p.token)),
  },
  {
    id: 'org-get-10k',
    name: 'GET /api/v1/orgs/{id} (1k orgs, 10k memberships)',
    before: (ctx) => seed(ctx, 10_000),
    prime: (ctx) => ctx.pairs.length,
    goal: { of: 'hello', min: 0.3 },
    requests: (ctx) => roundRobin(ctx.pairs, (p) => json('GET', `/api/v1/orgs/${p.orgId}`, p.token)),
  },
  {
    id: 'authz',
    name: 'POST /api/v1/authz/check {org_id, permission}',
    goal: { of: 'hello', min: 0.3 },
    requests: (ctx) =>
      roundRobin(ctx.pairs, (p) => json('POST', '/api/v1/authz/check', p.token, { org_id: p.orgId, permission: 'org.update' })),
  },
  {
    // The same mutation on a second API process whose AuditService.record does nothing
    // (bench/api-without-audit.js): the baseline of what the audit write costs.
    id: 'org-patch-no-audit',
    name: 'PATCH /api/v1/orgs/{id} {name}, audit write off',
    target: 'noAudit',
    // Measured in slices alternating with org-patch (below), not on its own.
    alternatesWith: 'org-patch',
    requests: (ctx) => orgPatchRequests(ctx),
  },
  {
    id: 'org-patch',
    name: 'PATCH /api/v1/orgs/{id} {name} (audited)',
    // Alternates with the unaudited run (not hello): the two compare slices seconds apart, on the
    // same database state (this table's churn and PostgreSQL's checkpoints move both alike).
    partner: 'org-patch-no-audit',
    goal: { of: 'org-patch-no-audit', min: 0.85 },
    // A longer warm-up, for both processes: in a full run the API has served every scenario before this
    // one and the unaudited process nothing, and with 2 s the colder baseline flattered the ratio (93 %
    // against 72 % with both warm, 2026-11-29).
    warmup: 10,
    rounds: 5,
    requests: (ctx) => orgPatchRequests(ctx),
  },
  {
    id: 'flag',
    name: 'GET /api/v1/orgs/{id}/feature-flags/{key}',
    goal: { of: 'hello', min: 0.3 },
    requests: (ctx) => roundRobin(ctx.pairs, (p) => json('GET', `/api/v1/orgs/${p.orgId}/feature-flags/bench.flag`, p.token)),
  },
  {
    id: 'audit',
    name: 'GET /api/v1/orgs/{id}/audit-logs',
    requests: (ctx) => roundRobin(ctx.pairs, (p) => json('GET', `/api/v1/orgs/${p.orgId}/audit-logs`, p.token)),
  },
  {
    id: 'audit-1m',
    name: 'GET /api/v1/orgs/{id}/audit-logs (first page, 1,000,000 rows)',
    before: (ctx) => seedAudit(ctx, AUDIT_ROWS),
    ownData: true, // no other scenario reads these rows: with BENCH_ONLY, seeded only when this one runs
    // A latency goal: one client at a time. With 32 (or even 4) clients the server is saturated and the
    // p99 measures their queueing behind each other, not how the query scales with the table.
    connections: 1,
    goal: { p99Under: 20 },
    requests: (ctx) => [json('GET', `/api/v1/orgs/${ctx.pairs[0].orgId}/audit-logs`, ctx.pairs[0].token)],
  },
  {
    id: 'org-get-100k',
    name: 'GET /api/v1/orgs/{id} (1k orgs, 100k memberships)',
    before: (ctx) => seed(ctx, 100_000),
    goal: { of: 'hello', min: 0.3 },
    requests: (ctx) => roundRobin(ctx.pairs, (p) => json('GET', `/api/v1/orgs/${p.orgId}`, p.token)),
  },
];

/** PATCH /orgs/{id} with a new name each time (a request that changes nothing writes nothing). */
function orgPatchRequests(ctx) {
  ctx.patches = ctx.patches ?? 0;
  return roundRobin(ctx.pairs, (p) => json('PATCH', `/api/v1/orgs/${p.orgId}`, p.token, { name: `Bench Org ${ctx.patches++}` }));
}

// ------------------------------------------------------------------------------------------------

/** Refresh: a pool of sessions; each request takes a refresh token, its answer puts the new one back. */
function refreshRequests(ctx) {
  const pool = ctx.refreshTokens;
  let spare;
  return [
    {
      setupRequest: (req) => {
        const token = pool.shift() ?? spare;
        spare = token;
        return Object.assign(req, json('POST', '/api/v1/auth/refresh', null, { refresh_token: token }));
      },
      onResponse: (status, body) => {
        if (status !== 200) return;
        try {
          pool.push(JSON.parse(body).refresh_token);
        } catch {
          // not JSON: lost token, the pool is sized with spares
        }
      },
    },
  ];
}

/** Hashes/s with one argon2id hash per CPU in flight for DURATION s; latency of one hash. */
async function argon2Bound(_ctx, duration = DURATION) {
  const parallel = os.cpus().length;
  await Promise.all(Array.from({ length: parallel }, () => argon2.hash(randomBytes(12).toString('hex'), ARGON2))); // warm-up
  const latencies = [];
  const end = Date.now() + duration * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        await argon2.hash(randomBytes(12).toString('hex'), ARGON2);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: latencies.length / seconds, p50: pct(50), p99: pct(99), non2xx: 0, errors: 0, total: latencies.length, unit: 'hashes/s' };
}

/** Bulk-seeds (SQL) until the memberships table holds `target` rows; the API users' pairs are 1 per org. */
async function seed(ctx, target) {
  const db = ctx.db;
  const t0 = Date.now();
  if (!ctx.orgIds) {
    const orgs = await db.query(
      `INSERT INTO organizations (id, name, slug, metadata, created_at, updated_at)
       SELECT gen_random_uuid(), 'Bench Org ' || g, 'bench-org-' || g, '{}'::jsonb, now(), now() FROM generate_series(1, $1) g
       RETURNING id`,
      [ORGS],
    );
    ctx.orgIds = orgs.rows.map((r) => r.id);
    // Each API user is Admin in ORGS / USERS of the orgs: ORGS (user, org) pairs in all.
    ctx.pairs = ctx.orgIds.map((orgId, i) => ({ orgId, user: ctx.users[i % ctx.users.length] }));
    for (const p of ctx.pairs) p.token = p.user.token;
    await db.query(
      `INSERT INTO memberships (id, org_id, user_id, role_id, created_at)
       SELECT gen_random_uuid(), o, u, $3, now() FROM unnest($1::uuid[], $2::uuid[]) AS t(o, u)`,
      [ctx.pairs.map((p) => p.orgId), ctx.pairs.map((p) => p.user.id), ADMIN_ROLE],
    );
    ctx.seeded = 0;
  }
  const current = Number((await db.query('SELECT count(*) AS n FROM memberships')).rows[0].n);
  const add = target - current;
  if (add > 0) {
    // `add` seed users, each a Member of one of the bench orgs (round-robin).
    await db.query(
      `WITH g AS (SELECT gen_random_uuid() AS id, s FROM generate_series($1::int + 1, $1::int + $2::int) s),
       u AS (
         INSERT INTO users (id, email, password_hash, full_name, created_at, updated_at)
         SELECT id, 'seed-' || s || '@bench.test', 'x', 'Seed User ' || s, now(), now() FROM g
       )
       INSERT INTO memberships (id, org_id, user_id, role_id, created_at)
       SELECT gen_random_uuid(), ($3::uuid[])[1 + (g.s % cardinality($3::uuid[]))], g.id, $4, now() FROM g`,
      [ctx.seeded, add, ctx.orgIds, MEMBER_ROLE],
    );
    ctx.seeded += add;
  }
  await db.query('ANALYZE users, organizations, memberships');
  const counts = (await db.query('SELECT (SELECT count(*) FROM organizations) AS orgs, (SELECT count(*) FROM memberships) AS m')).rows[0];
  log(`seeded: ${counts.orgs} organizations, ${counts.m} memberships (${Date.now() - t0} ms)`);
}

/**
 * Bulk-seeds (SQL) the audit log of the first bench org up to `rows` rows: one row a second going back
 * from now, as PATCH /orgs would write them. The rows are not a valid hash chain (verify is not benched);
 * the list reads the same index either way.
 */
async function seedAudit(ctx, rows) {
  const t0 = Date.now();
  const { orgId, user } = ctx.pairs[0];
  const have = Number((await ctx.db.query('SELECT count(*) AS n FROM audit_logs WHERE org_id = $1', [orgId])).rows[0].n);
  if (have < rows) {
    await ctx.db.query(
      `INSERT INTO audit_logs (id, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata, "timestamp", prev_hash, hash)
       SELECT gen_random_uuid(), $1::uuid, $2::uuid, $3, 'org.updated', 'org', $1::text, '127.0.0.1', 'bench',
              jsonb_build_object('fields', jsonb_build_array('name')), now() - make_interval(secs => g),
              md5((g + 1)::text) || md5((g + 1)::text), md5(g::text) || md5(g::text)
         FROM generate_series(1, $4::int) g`,
      [orgId, user.id, user.email, rows - have],
    );
    // A steady state, not the aftermath of a bulk load: autovacuum and the checkpoint would otherwise
    // run during the measurement.
    await ctx.db.query('VACUUM (ANALYZE) audit_logs');
    await ctx.db.query('CHECKPOINT');
  }
  log(`seeded: ${rows} audit rows in one organization (${Date.now() - t0} ms)`);
}

// ------------------------------------------------------------------------------------------------

function log(line) {
  process.stdout.write(`[bench] ${line}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function redisAnswers(url, timeoutMs = 1500) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      return resolve(false);
    }
    const sock = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const children = new Set();

function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-20_000)));
  children.add(child);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { name, child, exited, output: () => out };
}

async function waitHttp(proc, url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  proc.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${proc.name} exited before answering ${url}:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(proc, timeoutMs = 15_000) {
  if (!children.has(proc.child)) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  await proc.exited;
  clearTimeout(timer);
}

async function call(base, method, pathname, token, body) {
  const r = json(method, pathname, token, body);
  const res = await fetch(base + pathname, { method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool(items, n, fn) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

function cannon(url, connections, requests, duration) {
  return autocannon({ url, connections, duration, requests, timeout: 30 });
}

/** Sends one request built like autocannon would (setupRequest, then onResponse). */
async function sendOnce(base, request) {
  const first = Object.assign({ method: 'GET', headers: {} }, request);
  const req = first.setupRequest ? first.setupRequest({ ...first, headers: { ...first.headers } }) : first;
  const res = await fetch(base + req.path, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (first.onResponse) first.onResponse(res.status, text);
  return { status: res.status, text };
}

function baseOf(scenario, ctx) {
  return scenario.target === 'hello' ? ctx.hello : scenario.target === 'noAudit' ? ctx.noAudit : ctx.api;
}

/** Throughput and latency over several autocannon runs (slices) of one scenario. */
function summarize(runs, connections) {
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  const non2xx = sum((r) => r.non2xx);
  const statusCounts = {};
  for (const r of runs)
    for (const [c, v] of Object.entries(r.statusCodeStats || {}))
      if (!c.startsWith('2')) statusCounts[c] = (statusCounts[c] ?? 0) + v.count;
  const codes = Object.entries(statusCounts)
    .map(([c, n]) => `${c}x${n}`)
    .join(' ');
  const p50s = runs.map((r) => r.latency.p50).sort((a, b) => a - b);
  return {
    rps: (sum((r) => r.requests.total) - non2xx) / sum((r) => r.duration),
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    non2xx,
    errors: sum((r) => r.errors),
    total: sum((r) => r.requests.total),
    codes,
    connections,
  };
}

async function runHttp(scenario, ctx) {
  const base = baseOf(scenario, ctx);
  const requests = scenario.requests(ctx);
  // Probe once: a route still being built answers 404.
  const probe = await sendOnce(base, requests[0]);
  const probeText = probe.text;
  if (probe.status === 404) {
    let code = '';
    try {
      code = JSON.parse(probeText).code;
    } catch {
      // not JSON
    }
    return { skipped: `route answers 404${code ? ` (${code})` : ''}: not built yet?` };
  }
  if (probe.status >= 300) log(`note: ${scenario.id} probe answered ${probe.status}: ${probeText.slice(0, 200)}`);
  const connections = scenario.connections ?? CONNECTIONS;
  // Steady state: every distinct request once (caches filled) before the timed warm-up.
  if (scenario.prime) await pool(Array.from({ length: scenario.prime(ctx) }), 8, () => sendOnce(base, requests[0]));
  // An API scenario alternates with the hello route (or with its `partner` scenario): ROUNDS pairs of
  // (partner, scenario) slices of DURATION / ROUNDS seconds, so that the two compare runs seconds apart,
  // not minutes (this VM's throughput drifts by tens of percent over a run).
  const partner = scenario.partner ? SCENARIOS.find((p) => p.id === scenario.partner) : undefined;
  const partnerBase = partner ? baseOf(partner, ctx) : ctx.hello;
  const partnerRequests = partner ? partner.requests(ctx) : [{ method: 'GET', path: '/hello' }];
  const warmup = Math.max(WARMUP, scenario.warmup ?? 0);
  if (warmup > 0) {
    if (partner) await cannon(partnerBase, connections, partnerRequests, warmup);
    await cannon(base, connections, requests, warmup);
  }
  const slices = scenario.target === 'hello' ? 1 : Math.max(ROUNDS, scenario.rounds ?? 0);
  const slice = scenario.target === 'hello' ? DURATION : DURATION / ROUNDS; // more rounds (scenario.rounds): more slices of this length
  const runs = [];
  const partnerRuns = [];
  const boundRuns = [];
  for (let i = 0; i < slices; i++) {
    if (scenario.partnerRun) boundRuns.push(await scenario.partnerRun(ctx, slice));
    else if (scenario.target !== 'hello') partnerRuns.push(await cannon(partnerBase, connections, partnerRequests, slice));
    runs.push(await cannon(base, connections, requests, slice));
  }
  const result = summarize(runs, connections);
  // The bound alongside: its slices' rate (what they did over the time they took).
  if (boundRuns.length) result.boundRps = boundRuns.reduce((a, r) => a + r.total, 0) / boundRuns.reduce((a, r) => a + r.total / r.rps, 0);
  if (partner) result.partner = summarize(partnerRuns, connections);
  else if (partnerRuns.length) result.helloRps = summarize(partnerRuns, connections).rps;
  return result;
}

function fmt(n, digits = 0) {
  return n === undefined || Number.isNaN(n)
    ? '-'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function report(results, meta) {
  const hello = results.hello?.rps;
  const argon = results.argon2?.rps;
  const rows = [['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'hello alongside', '% of hello', 'goal', '']];
  for (const s of SCENARIOS) {
    const r = results[s.id];
    if (!r) continue;
    if (r.skipped) {
      rows.push([s.name, 'skipped', '', '', '', '', '', '', r.skipped]);
      continue;
    }
    const helloNear = r.helloRps ?? hello;
    const ofHello = helloNear ? (100 * r.rps) / helloNear : NaN;
    let goal = '';
    let verdict = '';
    if (s.goal?.p99Under !== undefined) {
      goal = `p99 < ${s.goal.p99Under} ms`;
      verdict = `${fmt(r.p99, 1)} ms ${r.p99 < s.goal.p99Under ? 'ok' : 'ABOVE'}`;
    } else if (s.goal) {
      const ref = s.goal.of === 'hello' ? helloNear : s.goal.of === 'argon2' ? (r.boundRps ?? argon) : results[s.goal.of]?.rps;
      const share = ref ? r.rps / ref : NaN;
      goal = `>= ${Math.round(s.goal.min * 100)}% of ${s.goal.of}`;
      verdict = `${fmt(share * 100)}% ${share >= s.goal.min ? 'ok' : 'BELOW'}`;
    }
    const extra = r.errors ? ` errors ${r.errors}` : '';
    rows.push([
      s.name,
      `${fmt(r.rps)}${r.unit ? ` ${r.unit}` : ''}`,
      fmt(r.p50, 1),
      fmt(r.p99, 1),
      `${fmt(r.non2xx)}${r.codes ? ` (${r.codes})` : ''}${extra}`,
      r.helloRps ? fmt(r.helloRps) : r.boundRps ? `argon2 ${fmt(r.boundRps)}/s` : '',
      s.id === 'argon2' ? '' : fmt(ofHello, 1),
      goal,
      verdict,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  const out = [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
  process.stdout.write(`\n${meta}\n\n${out.join('\n')}\n\n`);
  return out.join('\n');
}

async function main() {
  const t0 = Date.now();
  const loadStart = os.loadavg();
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts/ensure-built.js')], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 300_000,
  });
  if (built.status !== 0) throw new Error('the build failed');
  const buildSeconds = (Date.now() - t0) / 1000;
  if (buildSeconds > 5) log(`build: ${buildSeconds.toFixed(0)} s (dist/ was older than the sources)`);

  const dbName = `saasready_bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.pathname = `/${dbName}`;
  const redis = (await redisAnswers(REDIS_URL)) ? REDIS_URL : undefined;
  const localServices = { postgres: isLocal(DATABASE_URL), redis: !!redis && isLocal(redis) };
  const ctx = { users: [], refreshTokens: [] };
  const results = {};
  let api;
  let hello;
  let noAudit;
  try {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl.toString(),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...(redis ? { REDIS_URL: redis } : {}),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ISSUER_URL: 'http://bench.saasready.test',
      // Per-address limits would answer 429 to a one-address load generator.
      RATE_LIMIT_LOGIN: NO_LIMITS,
      RATE_LIMIT_REGISTER: NO_LIMITS,
      RATE_LIMIT_REFRESH: NO_LIMITS,
    };
    const migrate = spawnSync(process.execPath, [CLI, 'migration:run'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (migrate.status !== 0) throw new Error(`migration:run failed:\n${migrate.stdout}${migrate.stderr}`);

    const apiPort = await freePort();
    api = start('api', [...API_NODE_ARGS, API_MAIN], { ...env, PORT: String(apiPort) });
    const helloPort = await freePort();
    hello = start('hello', [path.join(__dirname, 'hello.js'), String(helloPort)], { NODE_ENV: 'production' });
    const noAuditPort = await freePort();
    noAudit = start('api-without-audit', [path.join(__dirname, 'api-without-audit.js')], { ...env, PORT: String(noAuditPort) });
    ctx.api = `http://127.0.0.1:${apiPort}`;
    ctx.hello = `http://127.0.0.1:${helloPort}`;
    ctx.noAudit = `http://127.0.0.1:${noAuditPort}`;
    await Promise.all([
      waitHttp(api, `${ctx.api}/health/ready`),
      waitHttp(hello, `${ctx.hello}/hello`),
      waitHttp(noAudit, `${ctx.noAudit}/health/ready`),
    ]);
    ctx.db = new Client({ connectionString: dbUrl.toString() });
    await ctx.db.connect();

    // Users (through the API) and a pool of sessions for refresh.
    const emails = Array.from({ length: USERS }, (_, i) => `bench-${i}-${randomBytes(3).toString('hex')}@bench.test`);
    ctx.users = await pool(emails, 4, async (email) => {
      const r = await call(ctx.api, 'POST', '/api/v1/auth/register', null, { email, password: PASSWORD, full_name: 'Bench User' });
      if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
      return { email, id: r.body.user.id, token: r.body.access_token };
    });
    // Each autocannon run (warm-up, then ROUNDS slices) may end with CONNECTIONS refreshes in flight whose new
    // tokens are lost: one spare set per run.
    const sessions = Array.from({ length: CONNECTIONS * (ROUNDS + 2) }, (_, i) => ctx.users[i % ctx.users.length]);
    ctx.refreshTokens = await pool(sessions, 4, async (u) => {
      const r = await call(ctx.api, 'POST', '/api/v1/auth/login', null, { email: u.email, password: PASSWORD });
      if (r.status !== 200) throw new Error(`login: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.refresh_token;
    });
    log(`set-up done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${USERS} users, ${ctx.refreshTokens.length} sessions)`);

    for (const s of SCENARIOS) {
      try {
        // Set-up steps run for skipped scenarios too (later ones see the same data), but for own data.
        if (s.before && !(ONLY && !ONLY.has(s.id) && s.ownData)) await s.before(ctx);
        if (ONLY && !ONLY.has(s.id)) continue;
        if (s.alternatesWith) continue; // measured with the scenario it alternates with
        log(`${s.id}: ${s.name}`);
        for (const proc of [api, hello, noAudit]) pinTo(proc.child.pid, s.allCpus ? ALL_CPUS : SERVER_CPUS);
        pinTo(process.pid, s.allCpus ? ALL_CPUS : LOAD_CPUS);
        pinServices(s.allCpus ? ALL_CPUS : LOAD_CPUS, localServices);
        results[s.id] = s.run ? await s.run(ctx) : await runHttp(s, ctx);
        if (results[s.id].partner) {
          results[s.partner] = results[s.id].partner;
          delete results[s.id].partner;
        }
        const r = results[s.id];
        log(
          r.skipped ? `  skipped: ${r.skipped}` : `  ${fmt(r.rps)} ${r.unit ?? 'req/s'}, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`,
        );
        if (/(^|\s)5\d\dx/.test(r.codes ?? '')) {
          const errors = api
            .output()
            .split('\n')
            .filter((l) => l.includes('"level":"error"'));
          for (const l of errors.slice(-2)) log(`  api error: ${l.slice(0, 400)}`);
        }
      } catch (e) {
        results[s.id] = { skipped: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
        log(`  ${results[s.id].skipped}`);
      }
    }
  } finally {
    restoreServices();
    if (api) await stop(api);
    if (hello) await stop(hello);
    if (noAudit) await stop(noAudit);
    await ctx.db?.end().catch(() => undefined);
    const c = new Client({ connectionString: DATABASE_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  }
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  const meta =
    `SaaSReady bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ` +
    `load average ${load(loadStart)} at start, ${load(os.loadavg())} at end, ` +
    `PostgreSQL ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}, Redis ${redis ?? 'none'}, ` +
    `${PIN ? `servers pinned to CPU ${SERVER_CPUS}, load generator${pinnedServices()} to CPU ${LOAD_CPUS} (login and argon2: all CPUs)` : 'no CPU pinning'}, ` +
    `${WARMUP}s warm-up + ${DURATION}s per scenario in ${ROUNDS} slices alternating with hello, ${CONNECTIONS} connections (login 16); total ${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const table = report(results, meta);
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ meta, results, table }, null, 2));
  log(`results written to ${path.relative(ROOT, file)}`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    restoreServices();
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

main().catch((e) => {
  for (const c of children) c.kill('SIGKILL');
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
