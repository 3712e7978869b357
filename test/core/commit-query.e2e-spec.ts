import { DataSource, QueryRunner } from 'typeorm';
import { CommitStatement, commitWithStatements, TransactionService } from '@saasready/core';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * The end of a transaction as one message (commitWithStatements, CommitQuery): queued statements and COMMIT, one Sync. Run on a
 * connection of the API's own pool (PostgreSQL, or the embedded database without DATABASE_URL).
 */
describe('CommitQuery: queued statements and the COMMIT in one message', () => {
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    ds = t.app.get(DataSource);
    await t.sql(`CREATE TABLE commit_query_probe (id int PRIMARY KEY, at timestamptz, doc jsonb, bytes bytea)`);
  });
  afterAll(async () => {
    await t.sql(`DROP TABLE IF EXISTS commit_query_probe, commit_query_late_table`);
    await t.close();
  });

  /** BEGIN on a runner of the pool, then `end(runner)`; the runner is released after. */
  async function inTransaction(end: (runner: QueryRunner) => Promise<void>): Promise<void> {
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await end(runner);
    } finally {
      await runner.release();
    }
  }

  const insert = (id: number, values: unknown[] = [null, null, null]): CommitStatement => ({
    name: 'commit_query_probe_insert',
    text: 'INSERT INTO commit_query_probe (id, at, doc, bytes) VALUES ($1, $2, $3, $4)',
    values: [id, ...values],
  });

  it('commits the statements and the transaction together, values converted as node-postgres does', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    await inTransaction(async (runner) => {
      await runner.query(`INSERT INTO commit_query_probe (id) VALUES (1)`);
      await commitWithStatements(runner, [insert(2, [at, { a: [1, 'x'] }, Buffer.from([0, 255])]), { text: 'SELECT 1', values: [] }]);
      // Committed: another connection sees both rows before this runner is released.
      expect(await t.sql(`SELECT id FROM commit_query_probe WHERE id IN (1, 2)`)).toHaveLength(2);
    });
    const rows = await t.sql<{ id: number; at: Date | null; doc: unknown; bytes: Buffer | null }>(
      `SELECT id, at, doc, bytes FROM commit_query_probe WHERE id IN (1, 2) ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(rows[1].at?.toISOString()).toBe(at.toISOString());
    expect(rows[1].doc).toEqual({ a: [1, 'x'] });
    expect(Buffer.from(rows[1].bytes ?? []).equals(Buffer.from([0, 255]))).toBe(true);
  });

  it('a failing statement commits nothing: the COMMIT behind it is skipped and the transaction is left to roll back', async () => {
    await inTransaction(async (runner) => {
      await runner.query(`INSERT INTO commit_query_probe (id) VALUES (10)`);
      await expect(commitWithStatements(runner, [insert(11), insert(10)])).rejects.toThrow(/duplicate key/);
      // Still in the (aborted) transaction: PostgreSQL refuses anything but its end.
      await expect(runner.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await runner.rollbackTransaction();
    });
    expect(await t.sql(`SELECT id FROM commit_query_probe WHERE id IN (10, 11)`)).toEqual([]);
  });

  it('after a failure on a connection, its prepared statements work again (parsed or not, they are parsed anew)', async () => {
    // One connection for every step: the bookkeeping of prepared statements is per connection.
    const runner = ds.createQueryRunner();
    try {
      const step = async (statements: CommitStatement[]) => {
        await runner.startTransaction();
        try {
          await commitWithStatements(runner, statements);
        } catch (e) {
          await runner.rollbackTransaction();
          throw e;
        }
      };
      // The statement parses, then its execution fails: it exists on the connection.
      await expect(step([{ name: 'commit_query_div', text: 'SELECT 1 / $1::int', values: [0] }])).rejects.toThrow(/division by zero/);
      await step([{ name: 'commit_query_div', text: 'SELECT 1 / $1::int', values: [1] }]);
      // The statement does not parse: it does not exist; the same name with a new text works.
      await expect(step([{ name: 'commit_query_bad', text: 'SELEC 1', values: [] }])).rejects.toThrow(/syntax error/);
      await step([{ name: 'commit_query_bad', text: 'SELECT 1', values: [] }]);
      // The statement does not parse yet (no such table), then does with the same text: parsed anew.
      const late: CommitStatement = { name: 'commit_query_late', text: 'SELECT count(*) FROM commit_query_late_table', values: [] };
      await expect(step([late])).rejects.toThrow(/does not exist/);
      await t.sql(`CREATE TABLE commit_query_late_table (x int)`);
      await step([late]);
      // And the COMMIT statement itself is parsed once per connection, reused after all of that.
      await step([insert(20)]);
      await step([insert(21)]);
    } finally {
      await runner.release();
    }
    expect((await t.sql<{ id: number }>(`SELECT id FROM commit_query_probe WHERE id IN (20, 21) ORDER BY id`)).map((r) => r.id)).toEqual([
      20, 21,
    ]);
  });

  it('TransactionService.run commits queued statements with its work, and a failing one rolls back both', async () => {
    const tx = t.app.get(TransactionService);
    await tx.run(async (m) => {
      await m.query(`INSERT INTO commit_query_probe (id) VALUES (30)`);
      await tx.beforeCommit(insert(31));
      // Queued, not run yet.
      expect(await m.query(`SELECT id FROM commit_query_probe WHERE id = 31`)).toEqual([]);
    });
    await expect(
      tx.run(async (m) => {
        await m.query(`INSERT INTO commit_query_probe (id) VALUES (32)`);
        await tx.beforeCommit(insert(30));
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await t.sql<{ id: number }>(`SELECT id FROM commit_query_probe WHERE id >= 30 ORDER BY id`)).map((r) => r.id)).toEqual([
      30, 31,
    ]);
    // The pool is whole: every connection can still run a transaction.
    await Promise.all(Array.from({ length: 12 }, (_, i) => tx.run(async (m) => void (await m.query('SELECT $1::int', [i])))));
  });
});
