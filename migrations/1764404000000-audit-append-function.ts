import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit append as a function, `audit_append(...)`, which costs the database about half of what the
 * chain-head upsert did (measured with pgbench on the PATCH /orgs transaction):
 *
 * - No `audit_chain_heads`: the function takes a transaction-scoped advisory lock on the chain (the org
 *   id, or none), then reads the chain's last row through `audit_logs_org_seq_idx` and inserts the new
 *   row after it. A lock and an index read instead of a row update (a new tuple version and its WAL) on
 *   every append. In READ COMMITTED each statement of a VOLATILE PL/pgSQL function takes a new snapshot,
 *   so the read after the lock sees the row of the transaction that held the lock before (it committed
 *   before releasing it); appends to one chain are serialized and `seq` grows in chain order. Under
 *   REPEATABLE READ or SERIALIZABLE the read could miss that row and fork the chain, so the function
 *   refuses to run there.
 * - The plan of its INSERT is cached per connection by PL/pgSQL (no named statement needed).
 * - `audit_logs_target_idx` becomes partial: only the rows about a user or a member are looked up by
 *   target (the security events of `GET /auth/security-events`), so the other appends (org, role, flag,
 *   invitation rows) skip that index. It had a random insertion point for every org.
 * - The regular-expression checks on `prev_hash` and `hash` go: the function computes both.
 *
 * The key of the advisory lock is (1635083369, 'audi' in ASCII; hashtext(chain)): the two-key form does not meet the
 * one-key locks taken elsewhere (key rotation, flags). Two chains that share a hash only wait for each other.
 */
export class AuditAppendFunction1764404000000 implements MigrationInterface {
  name = 'AuditAppendFunction1764404000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append(
        p_id uuid, p_org_id uuid, p_actor_id uuid, p_user_email text, p_action text, p_target_type text,
        p_target_id text, p_ip_address text, p_user_agent text, p_metadata jsonb, p_timestamp timestamptz,
        p_canonical text
      ) RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        prev text;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'audit_append runs in READ COMMITTED only (the chain read must see the last commit)';
        END IF;
        PERFORM pg_advisory_xact_lock(1635083369, hashtext(COALESCE(p_org_id::text, 'none')));
        IF p_org_id IS NULL THEN
          SELECT l.hash INTO prev FROM audit_logs l WHERE l.org_id IS NULL ORDER BY l.seq DESC LIMIT 1;
        ELSE
          SELECT l.hash INTO prev FROM audit_logs l WHERE l.org_id = p_org_id ORDER BY l.seq DESC LIMIT 1;
        END IF;
        prev := COALESCE(prev, repeat('0', 64));
        INSERT INTO audit_logs (id, org_id, actor_id, user_email, action, target_type, target_id, ip_address,
                                user_agent, metadata, "timestamp", prev_hash, hash)
        VALUES (p_id, p_org_id, p_actor_id, p_user_email, p_action, p_target_type, p_target_id, p_ip_address,
                p_user_agent, p_metadata, p_timestamp, prev, encode(sha256(convert_to(p_canonical || prev, 'UTF8')), 'hex'));
      END
      $fn$`);
    await q.query(`DROP TABLE audit_chain_heads`);
    await q.query(`DROP INDEX audit_logs_target_idx`);
    await q.query(`CREATE INDEX audit_logs_target_idx ON audit_logs (target_id) WHERE target_type IN ('user', 'member')`);
    await q.query(`ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_prev_hash_check, DROP CONSTRAINT audit_logs_hash_check`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_prev_hash_check CHECK (prev_hash ~ '^[0-9a-f]{64}$')`);
    await q.query(`ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_hash_check CHECK (hash ~ '^[0-9a-f]{64}$')`);
    await q.query(`DROP INDEX audit_logs_target_idx`);
    await q.query(`CREATE INDEX audit_logs_target_idx ON audit_logs (target_type, target_id)`);
    await q.query(`
      CREATE TABLE audit_chain_heads (
        chain text PRIMARY KEY,
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
      ) WITH (fillfactor = 50)`);
    await q.query(`
      INSERT INTO audit_chain_heads (chain, prev_hash, hash)
      SELECT DISTINCT ON (org_id) COALESCE(org_id::text, 'none'), prev_hash, hash
        FROM audit_logs
       ORDER BY org_id, seq DESC`);
    await q.query(`DROP FUNCTION audit_append(uuid, uuid, uuid, text, text, text, text, text, text, jsonb, timestamptz, text)`);
  }
}
