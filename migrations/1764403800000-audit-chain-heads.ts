import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The head of every audit hash chain (libs/audit), so that an append is one statement:
 * `INSERT ... ON CONFLICT (chain) DO UPDATE ... RETURNING prev_hash, hash` locks the chain's head row
 * (held until commit, so appends to one chain are serialized and `seq` grows in chain order) and always
 * reads its latest committed version, and the audit row is inserted by the same statement. Before, an
 * append took three round trips (an advisory lock, a read of the last row, the insert).
 * `chain` is the org id as text, or 'none' for rows without an org. The head is a cache of the last
 * row's hashes, not evidence: verification walks the rows themselves.
 */
export class AuditChainHeads1764403800000 implements MigrationInterface {
  name = 'AuditChainHeads1764403800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_chain_heads (
        chain text PRIMARY KEY,
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`
      INSERT INTO audit_chain_heads (chain, prev_hash, hash)
      SELECT DISTINCT ON (org_id) COALESCE(org_id::text, 'none'), prev_hash, hash
        FROM audit_logs
       ORDER BY org_id, seq DESC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_chain_heads`);
  }
}
