import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lighter audit append (every audited change pays it):
 * - `audit_logs_seq_unique` goes: `seq` is GENERATED ALWAYS AS IDENTITY (an insert cannot choose it), and
 *   every query by `seq` is within one chain, served by `audit_logs_org_seq_idx`. One index fewer to
 *   update per row.
 * - `audit_chain_heads` keeps free space in its pages (fillfactor 50), so that the head's update on every
 *   append can stay on its page (a HOT update, no index entry).
 */
export class AuditLighterAppend1764403900000 implements MigrationInterface {
  name = 'AuditLighterAppend1764403900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS audit_logs_seq_unique`);
    await q.query(`ALTER TABLE audit_chain_heads SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_chain_heads RESET (fillfactor)`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS audit_logs_seq_unique ON audit_logs (seq)`);
  }
}
