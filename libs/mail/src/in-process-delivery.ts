import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, TransactionService } from '@saasready/core';
import { MailDeliveryError, MailService } from './mail.service';
import { MailOutbox } from './mail-outbox';
import { OutboxSignal } from './outbox-signal';

/** While a row is being sent it is leased for this long (a process that dies mid-send frees it then). */
export const SEND_LEASE_MS = 2 * 60_000;
const CLAIM_BATCH = 20;
const MAX_BATCHES_PER_PASS = 50;

/**
 * Without Redis (embedded mode, or PostgreSQL without REDIS_URL) the API delivers the outbox itself:
 * after each commit (OutboxSignal) and every MAIL_RELAY_INTERVAL (and at start) it claims the due rows
 * and sends them, with the same attempts and exponential backoff as the worker (MailService.deliver).
 * Claims use FOR UPDATE SKIP LOCKED, so several API instances never send one row twice. Due times come
 * from the injected Clock (tests move it to reach a retry).
 */
@Injectable()
export class InProcessDelivery implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailDelivery');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private unlisten?: () => void;

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly outbox: MailOutbox,
    private readonly mail: MailService,
    private readonly signal: OutboxSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.unlisten = this.signal.listen(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.config.mail.relayIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Starts a pass now, or right after the running one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Sends everything due now and resolves when done (also what a pass triggered meanwhile sends). */
  async flush(): Promise<void> {
    this.wake();
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      if (!(await this.outbox.ready())) return;
      for (let i = 0; i < MAX_BATCHES_PER_PASS && !this.stopped; i++) {
        const now = this.clock.nowMs();
        const ids = await this.tx.run(() => this.outbox.claimDue(new Date(now), new Date(now + SEND_LEASE_MS), CLAIM_BATCH));
        for (const id of ids) {
          try {
            await this.mail.deliver(id);
          } catch (e) {
            // A failed attempt is recorded on the row (MailService) and retried when its backoff is due.
            if (!(e instanceof MailDeliveryError)) this.logger.error({ err: e, msg: 'email delivery failed', outbox_id: id });
          }
        }
        if (ids.length < CLAIM_BATCH) break;
      }
    } catch (e) {
      this.logger.error({ err: e, msg: 'outbox pass failed; the next one retries' });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearInterval(this.timer);
    await this.running;
  }
}
