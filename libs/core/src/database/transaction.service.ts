import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { RequestContext, RequestContextData } from '../context/request-context';

/**
 * Runs work in one database transaction and makes its EntityManager the ambient one (AsyncLocalStorage),
 * so services and the audit writer called inside share it. Nested calls join the outer transaction.
 */
@Injectable()
export class TransactionService {
  constructor(private readonly dataSource: DataSource) {}

  /** The ambient transaction's manager, else the pool's. */
  manager(): EntityManager {
    return RequestContext.current()?.manager ?? this.dataSource.manager;
  }

  repo<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    return this.manager().getRepository(entity);
  }

  inTransaction(): boolean {
    return RequestContext.current()?.manager !== undefined;
  }

  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const ctx = RequestContext.current();
    if (ctx?.manager) return work(ctx.manager);
    const afterCommit: (() => Promise<void> | void)[] = [];
    const result = await this.dataSource.transaction(async (manager) => {
      // Named fields, not a spread: ip and userAgent may be accessors (worked out on first use).
      const inner: RequestContextData = ctx
        ? { requestId: ctx.requestId, ip: ctx.ip, userAgent: ctx.userAgent, actor: ctx.actor, org: ctx.org, manager, afterCommit }
        : { requestId: '', ip: null, userAgent: null, manager, afterCommit };
      return RequestContext.run(inner, () => work(manager));
    });
    for (const fn of afterCommit) await fn();
    return result;
  }

  /** Runs `fn` after the ambient transaction commits (never if it rolls back); at once outside one. */
  async afterCommit(fn: () => Promise<void> | void): Promise<void> {
    const queue = RequestContext.current()?.afterCommit;
    if (queue && this.inTransaction()) queue.push(fn);
    else await fn();
  }
}
