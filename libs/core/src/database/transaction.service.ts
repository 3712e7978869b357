import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { CommitStatement, RequestContext, RequestContextData } from '../context/request-context';

/** What of the pg client under a TypeORM query runner `flush` uses (pg 8: `pipeline` is a Client option). */
interface PgClient {
  pipeline?: boolean;
  connection?: { stream?: { cork?: () => void; uncork?: () => void } };
  query(config: CommitStatement): Promise<unknown>;
}

/**
 * Runs work in one database transaction and makes its EntityManager the ambient one (AsyncLocalStorage),
 * so services and the audit writer called inside share it. Nested calls join the outer transaction.
 * (On shutdown, ConnectionDrain waits for the transactions in flight.)
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
    const beforeCommit: CommitStatement[] = [];
    let flushed: Flushed | undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      // Named fields, not a spread: ip and userAgent may be accessors (worked out on first use).
      const inner: RequestContextData = ctx
        ? {
            requestId: ctx.requestId,
            ip: ctx.ip,
            userAgent: ctx.userAgent,
            actor: ctx.actor,
            org: ctx.org,
            manager,
            afterCommit,
            beforeCommit,
          }
        : { requestId: '', ip: null, userAgent: null, manager, afterCommit, beforeCommit };
      const value = await RequestContext.run(inner, () => work(manager));
      if (beforeCommit.length) flushed = await flush(manager, beforeCommit);
      return value;
    });
    // A queued statement that failed aborted the transaction: PostgreSQL answered the COMMIT behind it
    // with a rollback. Nothing committed; the error goes to the caller and no afterCommit work runs.
    const failed = (await flushed?.answers)?.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const fn of afterCommit) await fn();
    return result;
  }

  /**
   * Queues a statement to run in the ambient transaction just before it commits (outside one: at once).
   * Its failure rolls the transaction back and is thrown by the `run` that opened it. On a connection in
   * pipeline mode (PostgreSQL; not the embedded database) the queued statements are written together with
   * the COMMIT, without waiting for their answers: what they add to a transaction is their execution, not
   * a round trip each.
   */
  async beforeCommit(statement: CommitStatement): Promise<void> {
    const ctx = RequestContext.current();
    if (ctx?.manager && ctx.beforeCommit) ctx.beforeCommit.push(statement);
    else await this.manager().query(statement.text, statement.values);
  }

  /** Runs `fn` after the ambient transaction commits (never if it rolls back); at once outside one. */
  async afterCommit(fn: () => Promise<void> | void): Promise<void> {
    const queue = RequestContext.current()?.afterCommit;
    if (queue && this.inTransaction()) queue.push(fn);
    else await fn();
  }
}

/** The answers of statements sent without waiting (wrapped: an async function would await a bare promise). */
interface Flushed {
  answers: Promise<PromiseSettledResult<unknown>[]>;
}

/**
 * Sends the queued statements on the transaction's connection. In pipeline mode they go out at once and
 * `answers` settles when theirs arrive (before the COMMIT's, which TypeORM sends next); without it, each
 * is awaited in turn (a failure throws here and rolls back as usual).
 */
async function flush(manager: EntityManager, statements: CommitStatement[]): Promise<Flushed | undefined> {
  const client = (await manager.queryRunner?.connect()) as PgClient | undefined;
  if (client?.pipeline) {
    // Corked until the end of this turn of the event loop: the statements and the COMMIT that TypeORM
    // writes a few microtasks later leave in one write (one system call here, one wake-up there).
    const stream = client.connection?.stream;
    if (stream?.cork && stream.uncork) {
      stream.cork();
      setImmediate(() => stream.uncork?.());
    }
    return { answers: Promise.allSettled(statements.map((s) => client.query(s))) };
  }
  for (const s of statements) {
    if (client && typeof client.query === 'function') await client.query(s);
    else await manager.query(s.text, s.values);
  }
  return undefined;
}
