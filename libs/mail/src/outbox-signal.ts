import { Injectable, Logger } from '@nestjs/common';

type Listener = (ids: string[]) => void;

/**
 * "New outbox rows have committed": MailService raises it after commit; the delivery strategy of the
 * process (OutboxRelay with Redis, InProcessDelivery without) listens. Listeners must not throw or block.
 */
@Injectable()
export class OutboxSignal {
  private readonly logger = new Logger('Mail');
  private readonly listeners = new Set<Listener>();

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(ids: string[]): void {
    for (const listener of this.listeners) {
      try {
        listener(ids);
      } catch (e) {
        this.logger.error({ err: e, msg: 'outbox listener failed (the periodic pass delivers the rows)' });
      }
    }
  }
}
