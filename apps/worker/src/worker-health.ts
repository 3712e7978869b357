import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { WorkerHost } from '@nestjs/bullmq';
import type Redis from 'ioredis';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AppConfig } from '@saasready/core';

type Check = 'ok' | 'error';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The worker's health signal: `GET /health` on WORKER_HEALTH_PORT answers 200 `{status: "ok", checks}`
 * when the database and Redis answer and the mail worker is consuming, else 503 with `status: "error"`.
 * While the worker shuts down it answers 503 (`worker: "stopping"`), then the port closes.
 * Built by a factory in WorkerModule (it needs the processor instance, whose class is made per module).
 */
export class WorkerHealthServer implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHealth');
  private server?: Server;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    /** The mail processor; its BullMQ worker must be running. */
    readonly mailProcessor: WorkerHost,
    private readonly dataSource: DataSource,
    private readonly redis: Redis | null,
  ) {}

  /** The bound port (WORKER_HEALTH_PORT, or the one picked for 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/health') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', detail: 'not found' }));
        return;
      }
      void this.report().then(({ ok, body }) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.workerHealthPort, this.config.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`health at http://${this.config.host}:${this.port}/health`);
  }

  async report(): Promise<{ ok: boolean; body: { status: string; checks: Record<string, string> } }> {
    const checks: Record<string, Check | 'stopping'> = { database: 'ok', redis: 'ok', worker: 'ok' };
    try {
      await within(2000, this.dataSource.query('SELECT 1'));
    } catch {
      checks.database = 'error';
    }
    try {
      if (!this.redis) throw new Error('no redis');
      await within(2000, this.redis.ping());
    } catch {
      checks.redis = 'error';
    }
    if (this.stopping) checks.worker = 'stopping';
    else if (!this.mailProcessor.worker?.isRunning()) checks.worker = 'error';
    const ok = Object.values(checks).every((c) => c === 'ok');
    return { ok, body: { status: ok ? 'ok' : 'error', checks } };
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
