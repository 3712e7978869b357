import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import { CommitQuery } from './commit-query';
import { CommitStatement, RequestContext, RequestContextData } from '../context/request-context';

/** What of the pg client under a TypeORM query runner `commit` uses. */
interface PgClient {
  connection?: { parse?: unknown };
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
      await commit(runner, beforeCommit);
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
  async beforeCommit(statement: CommitStatement): Promise<void> {
    if (!this.queueBeforeCommit(statement)) await this.manager().query(statement.text, statement.values);
  }

  /** beforeCommit's queueing alone: true if the statement was queued (inside a transaction), else false. */
  queueBeforeCommit(statement: CommitStatement): boolean {
    const queue = RequestContext.current()?.beforeCommit;
    if (!queue) return false;
    queue.push(statement);
    return true;
  }

  /** Runs `fn` after the ambient transaction commits (never if it rolls back); at once outside one. */
  async afterCommit(fn: () => Promise<void> | void): Promise<void> {
    const queue = RequestContext.current()?.afterCommit;
    if (queue && this.inTransaction()) queue.push(fn);
    else await fn();
  }
}

/** The query runner's state that `commit` settles itself when it commits with its own message. */
interface RunnerState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * Commits the runner's transaction with the queued statements in front of the COMMIT. On node-postgres
 * (PostgreSQL, and the embedded database through its socket) statements and COMMIT go as one message
 * (CommitQuery); a failed statement throws here and the transaction is still open, to be rolled back.
 * Another driver runs the statements one by one, then TypeORM's commit.
 */
async function commit(runner: QueryRunner, statements: CommitStatement[]): Promise<void> {
  const client = (await runner.connect()) as PgClient;
  if (!isPgClient(client)) {
    for (const s of statements) await runner.query(s.text, s.values);
    await runner.commitTransaction();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    client.query(new CommitQuery(statements, (err) => (err ? reject(err) : resolve())));
  });
  const state = runner as unknown as RunnerState;
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}

function isPgClient(client: PgClient | undefined): client is PgClient {
  return typeof client?.query === 'function' && typeof client.connection?.parse === 'function';
}
