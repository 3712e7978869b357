import { Query } from 'pg';
// The conversion node-postgres applies to query values (Date, Buffer, arrays, objects): the same here.
import { prepareValue } from 'pg/lib/utils';
import type { CommitStatement } from '../context/request-context';

/** What of node-postgres' Connection the commit message is written with (pg 8, extended query protocol). */
export interface PgWireConnection {
  parsedStatements: Record<string, string | undefined>;
  stream: { cork?: () => void; uncork?: () => void };
  close(msg: { type: 'S'; name: string }): void;
  parse(msg: { text: string; name: string }): void;
  bind(msg: { statement: string; portal: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(msg: { portal: string }): void;
  sync(): void;
}

/** pg's Query, as far as CommitQuery extends it (its typings declare `submit` as a property). */
interface PgQueryBase {
  handleError(err: Error, connection: PgWireConnection): void;
}
const PgQuery = Query as unknown as new (config: { text: string }, values: undefined, callback: (err?: Error) => void) => PgQueryBase;

const COMMIT: Required<CommitStatement> = { name: 'saasready_commit', text: 'COMMIT', values: [] };

/**
 * The end of a transaction as one message: the queued statements (TransactionService.beforeCommit) and the
 * COMMIT, each as Bind + Execute of a prepared statement, then a single Sync. PostgreSQL runs them in order
 * and answers once: no round trip, no extra flush on either side, no row description.
 *
 * If a statement fails, PostgreSQL skips what follows up to the Sync (the COMMIT included) and the
 * transaction stays open in the aborted state: the callback gets the error and the caller rolls back.
 * Nothing commits. A prepared statement is parsed once per connection (a Close first: after an error it
 * is not known whether the Parse took effect, and closing a missing statement is no error).
 */
export class CommitQuery extends PgQuery {
  private readonly parsedHere: string[] = [];

  constructor(
    private readonly statements: readonly CommitStatement[],
    callback: (err?: Error) => void,
  ) {
    super({ text: COMMIT.text }, undefined, callback);
  }

  submit(connection: PgWireConnection): null {
    connection.stream.cork?.();
    try {
      for (const s of this.statements) this.write(connection, s);
      this.write(connection, COMMIT);
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  private write(connection: PgWireConnection, s: CommitStatement): void {
    const name = s.name ?? '';
    if (!name || connection.parsedStatements[name] !== s.text) {
      if (name) connection.close({ type: 'S', name });
      connection.parse({ text: s.text, name });
      if (name) {
        connection.parsedStatements[name] = s.text;
        this.parsedHere.push(name);
      }
    }
    connection.bind({ statement: name, portal: '', values: s.values, valueMapper: prepareValue });
    connection.execute({ portal: '' });
  }

  /** Rows (a function's result) are not read. */
  handleDataRow(): void {}

  override handleError(err: Error, connection: PgWireConnection): void {
    // Parsed or not, unknown: parse again next time (after a Close).
    for (const name of this.parsedHere) delete connection.parsedStatements[name];
    super.handleError(err, connection);
  }
}
