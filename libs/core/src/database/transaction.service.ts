import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import { CommitQuery } from './commit-query';
import { CommitStatement, RequestContext, RequestContextData } from '../context/request-context';

/** What of the node-postgres client under TypeORM's PostgreSQL query runner the commit uses. */
interface PgClient {
  query(query: CommitQuery): void;
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
    const runner = this.dataSource.createQueryRunner();
    let result: T;
    try {
      await runner.startTransaction();
      const manager = runner.manager;
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
      result = await RequestContext.run(inner, () => work(manager));
      await commitWithStatements(runner, beforeCommit);
    } catch (err) {
      // A failed queued statement leaves the transaction open (aborted): roll it back. The original error
      // goes to the caller, even if the rollback fails too.
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
    for (const fn of afterCommit) await fn();
    return result;
  }

  /**
   * Queues a statement to run in the ambient transaction just before it commits (outside one: at once).
   * Its failure rolls the transaction back and is thrown by the `run` that opened it. The queued statements
   * are written in one message with the COMMIT (CommitQuery): what they add to a transaction is their
   * execution, not a round trip each.
   */
  beforeCommit(statement: CommitStatement): Promise<void> | void {
    const queue = RequestContext.current()?.beforeCommit;
    if (queue)
      queue.push(statement); // queued: nothing to wait for (no promise on the audited hot path)
    else return this.manager().query(statement.text, statement.values);
  }

  /** Runs `fn` after the ambient transaction commits (never if it rolls back); at once outside one. */
  async afterCommit(fn: () => Promise<void> | void): Promise<void> {
    const queue = RequestContext.current()?.afterCommit;
    if (queue && this.inTransaction()) queue.push(fn);
    else await fn();
  }
}

/** The query runner's state that the commit settles itself (TypeORM's commitTransaction would). */
interface RunnerState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * Commits the runner's transaction (top level, begun with startTransaction) with `statements` in front of
 * the COMMIT, in one message (CommitQuery), and leaves the runner as TypeORM's commitTransaction would
 * (no transaction; TypeORM's transaction subscribers are not called: the project has none). A failed
 * statement throws here with the transaction still open and aborted: roll it back.
 */
export async function commitWithStatements(runner: QueryRunner, statements: readonly CommitStatement[]): Promise<void> {
  const client = (await runner.connect()) as PgClient;
  await new Promise<void>((resolve, reject) => {
    client.query(new CommitQuery(statements, (err) => (err ? reject(err) : resolve())));
  });
  const state = runner as unknown as RunnerState;
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}
