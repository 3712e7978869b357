import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, FactoryProvider, Logger, Module } from '@nestjs/common';
import { Queue, QueueOptions } from 'bullmq';
import { AppConfig } from '@saasready/core';
import { InProcessDelivery } from './in-process-delivery';
import { DeliverMailJob, MAIL_QUEUE } from './mail.constants';
import { MailOutbox } from './mail-outbox';
import { MailService } from './mail.service';
import { MailTemplates } from './mail.templates';
import { MailTransport } from './mail.transport';
import { mailJobOptions, OutboxRelay } from './outbox-relay';
import { OutboxSignal } from './outbox-signal';

export interface MailModuleOptions {
  config: AppConfig;
}

/** The BullMQ options of MAIL_QUEUE (the worker's processor takes its prefix and uses its own connection, see apps/worker). */
export function mailQueueOptions(config: AppConfig): QueueOptions {
  if (!config.redisUrl) throw new Error('mailQueueOptions needs REDIS_URL');
  return {
    prefix: config.queuePrefix,
    // Fail fast while Redis is away (the relay retries): no offline queue for the producer.
    connection: { url: config.redisUrl, enableOfflineQueue: false, connectionName: 'saasready:mail-queue' },
    defaultJobOptions: mailJobOptions(config),
  };
}

/**
 * MAIL_QUEUE under @nestjs/bullmq's token (InjectQueue, and the worker's processor reads its options),
 * built here so its 'error' listener is attached at once: a Queue that emits 'error' with no listener
 * (Redis unreachable at start) would throw.
 */
function mailQueueProvider(config: AppConfig): FactoryProvider {
  return {
    provide: getQueueToken(MAIL_QUEUE),
    useFactory: () => {
      const logger = new Logger('MailQueue');
      let lastWarning = 0;
      const queue = new Queue<DeliverMailJob>(MAIL_QUEUE, mailQueueOptions(config));
      queue.on('error', (e: Error) => {
        if (Date.now() - lastWarning < 10_000) return; // a Redis outage must not flood the log
        lastWarning = Date.now();
        logger.warn(`queue connection: ${e.message}`);
      });
      return Object.assign(queue, { onApplicationShutdown: () => queue.close() });
    },
  };
}

/**
 * Email: the outbox, templates, the transport and the delivery strategy of the process. Global (like the
 * database), so libs that send email (auth, invitations) inject MailService without importing it.
 * With REDIS_URL: the relay feeds the BullMQ queue MAIL_QUEUE, which the worker consumes. Without: the
 * API delivers in-process (InProcessDelivery). Import once per app, with the app's config.
 */
@Module({})
export class MailModule {
  static forRoot(options: MailModuleOptions): DynamicModule {
    const common = [MailOutbox, MailTransport, MailTemplates, OutboxSignal, MailService];
    if (options.config.redisUrl) {
      return {
        global: true,
        module: MailModule,
        // registerQueue() without queues: only @nestjs/bullmq's explorer (it starts the worker's processors).
        imports: [BullModule.registerQueue()],
        providers: [...common, mailQueueProvider(options.config), OutboxRelay],
        exports: [MailService, MailTemplates, MailTransport, OutboxRelay, getQueueToken(MAIL_QUEUE)],
      };
    }
    return {
      global: true,
      module: MailModule,
      providers: [...common, InProcessDelivery],
      exports: [MailService, MailTemplates, MailTransport, InProcessDelivery],
    };
  }
}
