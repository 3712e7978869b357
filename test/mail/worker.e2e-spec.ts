import Redis from 'ioredis';
import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { createServer, Server, Socket, connect } from 'node:net';
import { createPino, PinoLogger } from '@saasready/core';
import { MAIL_QUEUE, OutboxRelay } from '@saasready/mail';
import { BuiltInRole } from '@saasready/rbac';
import { MailWorkerOptions } from '../../apps/worker/src/mail.processor';
import { WorkerHealthServer } from '../../apps/worker/src/worker-health';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { describeWithRedis, TEST_REDIS_URL } from '../support/env';
import { givenUser, GivenUser, uniqueEmail } from '../support/factories';
import { eventually, linkToken, SmtpReceiver } from '../support/smtp';
import { createTestApp, TestApp } from '../support/test-app';

const APP_URL = 'https://app.example.test';
/** Booting an app on a fresh embedded database (PGlite initdb) can take most of a minute on a busy machine. */
const BOOT_TIMEOUT_MS = 180_000;

/** A loopback port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP proxy in front of Redis that a test can cut (every connection dropped, no new ones) and restore. */
class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private constructor(private readonly target: URL) {}

  static async start(target: URL): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.listen(0);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 6379), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

async function health(
  worker: INestApplicationContext,
): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const port = worker.get(WorkerHealthServer).port;
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
}

/**
 * Production mode: the API writes the outbox and relays it to BullMQ on the real Redis; the worker (the
 * real WorkerModule, in this process) sends through a real SMTP server.
 */
describeWithRedis('mail through Redis and the worker', () => {
  let t: TestApp;
  let smtp: SmtpReceiver;
  let queue: Queue;
  const env: Record<string, string> = {};
  const workers: INestApplicationContext[] = [];

  /** The real WorkerModule on `base`'s database, on the real Redis. */
  async function startWorker(base: TestApp = t, mailWorker?: MailWorkerOptions): Promise<INestApplicationContext> {
    const config = { ...base.config, redisUrl: TEST_REDIS_URL, runMigrationsAtStart: false, workerHealthPort: 0 };
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ config, mailWorker }), {
      logger: new PinoLogger(createPino(t.config.logLevel)),
      abortOnError: false,
    });
    workers.push(app);
    return app;
  }

  const rowOf = async (app: TestApp, email: string) =>
    (
      await app.sql<{ id: string; status: string; attempts: number; relayed_at: Date | null }>(
        `SELECT id, status, attempts, relayed_at FROM email_outbox WHERE "to" = $1`,
        [email],
      )
    )[0];

  const inviteMember = (app: TestApp, owner: GivenUser, email: string) =>
    app.http().post(`/api/v1/orgs/${owner.orgId}/invitations`).set(owner.auth).send({ email, role_id: BuiltInRole.Member.id });

  beforeAll(async () => {
    smtp = await SmtpReceiver.start();
    Object.assign(env, {
      SMTP_URL: smtp.url,
      APP_URL,
      QUEUE_PREFIX: `test-${randomBytes(4).toString('hex')}`,
      MAIL_RELAY_INTERVAL: '250ms',
      MAIL_RETRY_DELAY: '200ms',
    });
    t = await createTestApp({ redis: true, env });
    queue = t.app.get<Queue>(getQueueToken(MAIL_QUEUE));
  }, BOOT_TIMEOUT_MS);
  afterEach(async () => {
    smtp.releaseHeld('refuse');
    while (workers.length) await workers.pop()!.close();
  });
  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await t?.close();
    await smtp?.close();
  });

  it('the API queues, the worker sends: the link works, the row ends sent, the job leaves Redis; health answers', async () => {
    const worker = await startWorker();
    const u = await givenUser(t);
    const [mail] = await smtp.waitFor(u.email);
    await t
      .http()
      .post('/api/v1/auth/email/verify')
      .send({ token: linkToken(mail, APP_URL, 'verify-email') })
      .expect(204);
    await eventually(async () => expect((await rowOf(t, u.email)).status).toBe('sent'));
    await eventually(async () =>
      expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({
        waiting: 0,
        active: 0,
        delayed: 0,
        completed: 0,
        failed: 0,
      }),
    );
    expect(await health(worker)).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'ok', redis: 'ok', worker: 'ok' } } });
    expect(await queue.getWorkersCount()).toBe(1); // one BullMQ worker per worker process, none in the API
  });

  it('one job per outbox row: repeated relay passes and adds never queue a row twice', async () => {
    const u = await givenUser(t); // no worker yet: the job waits in Redis
    await eventually(async () => expect((await rowOf(t, u.email)).relayed_at).not.toBeNull());
    const { id } = await rowOf(t, u.email);
    const relay = t.app.get(OutboxRelay);
    await t.sql(`UPDATE email_outbox SET relayed_at = NULL WHERE id = $1`, [id]);
    await relay.pass();
    await relay.pass();
    await relay.push([id, id]);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await queue.getJob(id))?.data).toEqual({ outboxId: id });
    await startWorker();
    await smtp.waitFor(u.email);
    await eventually(async () => expect((await rowOf(t, u.email)).status).toBe('sent'));
    await eventually(async () => expect(await queue.getJobCounts('waiting', 'active')).toEqual({ waiting: 0, active: 0 }));
    expect(smtp.to(u.email)).toHaveLength(1);
  });

  it('retries a refused email with backoff until it goes out', async () => {
    await startWorker();
    smtp.refuseNext(2);
    const u = await givenUser(t);
    await smtp.waitFor(u.email);
    await eventually(async () => expect(await rowOf(t, u.email)).toMatchObject({ status: 'sent', attempts: 3 }));
    expect(smtp.to(u.email)).toHaveLength(1);
  });

  it(
    'a Redis outage during the invites: the requests succeed; when Redis is back the API queues the emails, each sent once',
    async () => {
      const proxy = await TcpProxy.start(new URL(TEST_REDIS_URL!));
      const api = await createTestApp({ env: { ...env, REDIS_URL: proxy.url, QUEUE_PREFIX: `${env.QUEUE_PREFIX}-a` } });
      const apiQueue = api.app.get<Queue>(getQueueToken(MAIL_QUEUE));
      try {
        const owner = await givenUser(api);
        await eventually(async () => expect((await rowOf(api, owner.email)).relayed_at).not.toBeNull());
        await proxy.cut();
        const invitees = [uniqueEmail('outage1'), uniqueEmail('outage2'), uniqueEmail('outage3')];
        for (const email of invitees) await inviteMember(api, owner, email).expect(201);
        expect(await api.app.get(OutboxRelay).pass()).toBe(0); // Redis is away: nothing can be queued
        for (const email of invitees) expect(await rowOf(api, email)).toMatchObject({ status: 'pending', relayed_at: null });

        await proxy.restore();
        // The API's own periodic relay queues them once its connection is back.
        await eventually(async () => {
          for (const email of invitees) expect((await rowOf(api, email)).relayed_at).not.toBeNull();
        }, 30_000);
        await startWorker(api);
        for (const email of invitees) await smtp.waitFor(email);
        await eventually(async () => {
          for (const email of [owner.email, ...invitees]) expect((await rowOf(api, email)).status).toBe('sent');
        });
        await eventually(async () =>
          expect(await apiQueue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 }),
        );
        for (const email of [owner.email, ...invitees]) expect(smtp.to(email)).toHaveLength(1);
        expect(linkToken(smtp.to(invitees[0])[0], APP_URL, 'accept-invite')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      } finally {
        while (workers.length) await workers.pop()!.close();
        await apiQueue.obliterate({ force: true }).catch(() => undefined);
        await api.close();
        await proxy.close();
      }
    },
    BOOT_TIMEOUT_MS,
  );

  it(
    'rows an API could never queue (its Redis unreachable) are relayed and sent by the worker',
    async () => {
      const api = await createTestApp({
        env: { ...env, REDIS_URL: `redis://127.0.0.1:${await deadPort()}`, QUEUE_PREFIX: `${env.QUEUE_PREFIX}-b` },
      });
      try {
        const owner = await givenUser(api);
        const invitees = [uniqueEmail('unqueued1'), uniqueEmail('unqueued2')];
        for (const email of invitees) await inviteMember(api, owner, email).expect(201);
        for (const email of [owner.email, ...invitees])
          expect(await rowOf(api, email)).toMatchObject({ status: 'pending', relayed_at: null });
        await startWorker(api); // its relay (on the working Redis) finds the pending rows at start
        for (const email of [owner.email, ...invitees]) await smtp.waitFor(email);
        await eventually(async () => {
          for (const email of [owner.email, ...invitees]) expect((await rowOf(api, email)).status).toBe('sent');
        });
        for (const email of [owner.email, ...invitees]) expect(smtp.to(email)).toHaveLength(1);
      } finally {
        // The API's own queue handle points at the dead Redis: clear the keys through the worker's.
        await workers[0]
          ?.get<Queue>(getQueueToken(MAIL_QUEUE), { strict: false })
          .obliterate({ force: true })
          .catch(() => undefined);
        while (workers.length) await workers.pop()!.close();
        await api.close();
      }
    },
    BOOT_TIMEOUT_MS,
  );

  it('graceful shutdown: a worker closed in the middle of a job finishes it first', async () => {
    const worker = await startWorker();
    smtp.hold();
    const u = await givenUser(t);
    await smtp.waitForHeld();
    const closing = worker.close();
    workers.splice(workers.indexOf(worker), 1);
    await eventually(async () => expect((await health(worker)).body.checks.worker).toBe('stopping'));
    smtp.releaseHeld('accept');
    await closing;
    await smtp.waitFor(u.email);
    expect((await rowOf(t, u.email)).status).toBe('sent');
    expect(smtp.to(u.email)).toHaveLength(1);
  });

  it('a worker killed in the middle of a job: another worker delivers it (at least once)', async () => {
    const fast = { lockDuration: 2000, stalledInterval: 500 };
    // BullMQ lets one stalled-job check run per interval across workers (a `stalled-check` key with the
    // interval as TTL): the key an earlier test's worker set (30 s default) would hold ours back.
    const redis = new Redis(TEST_REDIS_URL!);
    await redis.del(`${env.QUEUE_PREFIX}:${MAIL_QUEUE}:stalled-check`);
    redis.disconnect();
    const first = await startWorker(t, fast);
    smtp.hold();
    const u = await givenUser(t);
    await smtp.waitForHeld();
    // Kill: the BullMQ worker stops without finishing or failing its job, and the process goes away.
    await first.get(WorkerHealthServer).mailProcessor.worker.close(true);
    await first.close();
    workers.splice(workers.indexOf(first), 1);
    smtp.releaseHeld('refuse'); // the dead worker's SMTP transaction never completes
    expect(smtp.to(u.email)).toHaveLength(0);
    await startWorker(t, fast); // its stalled-job check takes the job over once the dead worker's lock expires
    await smtp.waitFor(u.email);
    await eventually(async () => expect((await rowOf(t, u.email)).status).toBe('sent'));
    expect(smtp.to(u.email).length).toBeGreaterThanOrEqual(1);
  });
});
