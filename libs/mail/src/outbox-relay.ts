import { InjectQueue } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig, Clock } from '@saasready/core';
import { DeliverMailJob, MAIL_QUEUE, MailJobName } from './mail.constants';
import { MailOutbox } from './mail-outbox';
import { OutboxSignal } from './outbox-signal';

/** A row put on the queue this long ago and still pending is put there again (its job may be lost, e.g. a Redis restart without persistence). */
export const RELAY_STALE_MS = 5 * 60_000;
const RELAY_BATCH = 500;
const RELAY_MAX_BATCHES = 20;
const QUEUE_TIMEOUT_MS = 5_000;

/** The job options of MAIL_QUEUE: retries with exponential backoff; finished jobs leave Redis (the outbox row keeps the outcome). */
export function mailJobOptions(config: AppConfig): JobsOptions {
  return {
    attempts: config.mail.maxAttempts,
    backoff: { type: 'exponential', delay: config.mail.retryDelayMs },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * Redis mode: moves pending outbox rows onto the BullMQ queue, one job per row with jobId = the outbox
 * id, so a second pass, a second instance or a retry never queues a row twice. Kicked after each commit
 * (OutboxSignal), and every MAIL_RELAY_INTERVAL (and at start), so rows written while Redis was down, or
 * by a process that died between its commit and the queue, still go out. Runs in the API and the worker;
 * several relays at once are harmless. Never throws into a request: a failure leaves the rows pending
 * for the next pass.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailRelay');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private unlisten?: () => void;
  private lastWarning = 0;

  constructor(
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue<DeliverMailJob>,
    private readonly outbox: MailOutbox,
    private readonly signal: OutboxSignal,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.unlisten = this.signal.listen((ids) => this.track(this.push(ids)));
    this.timer = setInterval(() => void this.pass(), this.config.mail.relayIntervalMs);
    this.timer.unref();
    void this.pass();
  }

  /** Queues these outbox rows now; false (rows stay pending for the next pass) when Redis cannot take them. */
  async push(ids: string[]): Promise<boolean> {
    if (ids.length === 0) return true;
    const opts = mailJobOptions(this.config);
    try {
      await withTimeout(
        this.queue.addBulk(ids.map((id) => ({ name: MailJobName.Deliver, data: { outboxId: id }, opts: { ...opts, jobId: id } }))),
        QUEUE_TIMEOUT_MS,
      );
    } catch (e) {
      this.warn(`could not queue ${ids.length} email(s), the next relay pass retries: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    try {
      await this.outbox.markRelayed(ids, this.clock.now());
    } catch (e) {
      // Harmless: the row is relayed again later and the job id makes that a no-op.
      this.warn(`could not record the relay: ${e instanceof Error ? e.message : String(e)}`);
    }
    return true;
  }

  /** One relay pass over the outbox; returns how many rows it queued. Never throws. */
  async pass(): Promise<number> {
    if (this.stopped) return 0;
    if (this.running) return this.running;
    this.running = this.relayAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async relayAll(): Promise<number> {
    let queued = 0;
    try {
      if (!(await this.outbox.ready())) return 0;
      const staleBefore = new Date(this.clock.nowMs() - RELAY_STALE_MS);
      for (let i = 0; i < RELAY_MAX_BATCHES && !this.stopped; i++) {
        const ids = await this.outbox.relayable(staleBefore, RELAY_BATCH);
        if (ids.length === 0 || !(await this.push(ids))) break;
        queued += ids.length;
        if (ids.length < RELAY_BATCH) break;
      }
    } catch (e) {
      this.warn(`relay pass failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return queued;
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Stops the timer and lets the pushes in flight finish (before the database and Redis close). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearInterval(this.timer);
    await Promise.allSettled([...this.inflight, this.running]);
  }

  /** At most one warning per 10 s: a Redis outage must not flood the log. */
  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger.warn(message);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
