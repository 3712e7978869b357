import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, Type } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { DeliverMailJob, DeliveryOutcome, MAIL_QUEUE, MailJobName, MailService } from '@saasready/mail';

/** Tuning of the mail worker (BullMQ Worker options); the defaults suit production. */
export interface MailWorkerOptions {
  /** Jobs processed at once (default 5). */
  concurrency?: number;
  /** How long a job's lock lives without renewal: a worker that dies mid-job frees it after this (default 30 s). */
  lockDuration?: number;
  /** How often jobs of dead workers are looked for (default 30 s). */
  stalledInterval?: number;
}

/**
 * The mail processor: a thin WorkerHost that hands each job to MailService.deliver (which records the
 * outcome on the outbox row; a thrown MailDeliveryError makes BullMQ retry with backoff). Built per
 * worker module because BullMQ reads its options (connection, lock timing) from the decorator.
 */
export function createMailProcessor(redisUrl: string, options: MailWorkerOptions = {}): Type<WorkerHost & BeforeApplicationShutdown> {
  @Processor(MAIL_QUEUE, {
    // The worker's own connection: blocking reads need maxRetriesPerRequest null (BullMQ sets it) and an offline queue.
    connection: { url: redisUrl, connectionName: 'saasready:mail-worker' },
    concurrency: options.concurrency ?? 5,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
  })
  class MailProcessor extends WorkerHost implements BeforeApplicationShutdown {
    private readonly logger = new Logger('MailWorker');

    constructor(@Inject(MailService) private readonly mail: MailService) {
      super();
    }

    async process(job: Job<DeliverMailJob>): Promise<DeliveryOutcome> {
      if (job.name !== MailJobName.Deliver || typeof job.data?.outboxId !== 'string') {
        throw new UnrecoverableError(`unknown mail job "${job.name}"`);
      }
      const outcome = await this.mail.deliver(job.data.outboxId);
      // No such row in this database: a job of another deployment sharing Redis (give each its own QUEUE_PREFIX).
      if (outcome === 'missing') this.logger.warn(`job ${job.id}: no outbox row ${job.data.outboxId} in this database; dropped`);
      return outcome;
    }

    /** A job that will not run again (attempts exhausted, stalled too often) hands its still-pending row back to the relay. */
    @OnWorkerEvent('failed')
    async onFailed(job: Job<DeliverMailJob> | undefined, error: Error): Promise<void> {
      if (!job || typeof job.data?.outboxId !== 'string') return;
      const state = await job.getState().catch(() => 'unknown');
      if (state !== 'failed' && state !== 'unknown') return; // retried later by BullMQ
      this.logger.warn(`job ${job.id} gave up (${error.message}); its outbox row goes back to the relay`);
      await this.mail
        .releaseToRelay(job.data.outboxId)
        .catch((e: unknown) => this.logger.error({ err: e, msg: 'could not release the row' }));
    }

    @OnWorkerEvent('error')
    onError(error: Error): void {
      this.logger.warn(`worker: ${error.message}`);
    }

    /** Graceful shutdown: stop taking jobs and finish the current ones while the database is still open. */
    async beforeApplicationShutdown(): Promise<void> {
      await this.worker.close();
    }
  }
  return MailProcessor;
}
