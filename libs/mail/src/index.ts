export * from './mail.constants';
export * from './email-outbox.entity';
export * from './mail.templates';
export * from './mail.transport';
export * from './mail-outbox';
export * from './outbox-signal';
export * from './mail.service';
export * from './outbox-relay';
export * from './in-process-delivery';
export * from './mail.module';

import { EmailOutboxEntity } from './email-outbox.entity';
export const MAIL_ENTITIES = [EmailOutboxEntity];
