import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock } from '@saasready/core';
import { AuditService } from './audit.service';

const DAY_MS = 86_400_000;
const FIRST_RUN_DELAY_MS = 60_000;

/**
 * Audit retention, once a day (and a minute after start): AuditService.prune. A plain timer for now; it
 * moves to a BullMQ repeatable job when the queues arrive. Runs in the worker (or in the API when there
 * is no Redis, hence no worker). Idle when AUDIT_RETENTION_DAYS is unset. Several processes running it are harmless.
 */
@Injectable()
export class AuditPruneJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditPruneJob');
  private timers: NodeJS.Timeout[] = [];
  private running = false;

  constructor(
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.auditRetentionDays) return;
    this.timers.push(setTimeout(() => void this.run(), FIRST_RUN_DELAY_MS).unref(), setInterval(() => void this.run(), DAY_MS).unref());
  }

  onModuleDestroy(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** One pass; never throws (a failure is logged and retried at the next tick). */
  async run(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      return await this.audit.prune(this.clock.now());
    } catch (e) {
      this.logger.error({ err: e, msg: 'audit retention failed' });
      return 0;
    } finally {
      this.running = false;
    }
  }
}
