import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (libs/audit): append-only rows with a per-organization SHA-256 hash chain.
 *
 * - `org_id` has no foreign key on purpose: rows outlive their organization.
 * - `seq` is the chain order: appends to one org's chain are serialized (pg_advisory_xact_lock on a hash
 *   of the org id, held until commit), so within an org `seq` grows in chain order.
 * - The trigger refuses UPDATE, DELETE and TRUNCATE. The one exception is the retention path
 *   (AuditService.prune): a DELETE is allowed only in a transaction that did
 *     SET LOCAL saasready.audit_prune = 'on';
 *     SELECT set_config('saasready.audit_prune_before', '<cutoff, ISO 8601>', true);
 *   and only for rows older than that cutoff and more than one day old (a floor no setting can lower).
 */
export class Audit1764403300000 implements MigrationInterface {
  name = 'Audit1764403300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_logs (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        org_id uuid,
        actor_id uuid,
        user_email text CHECK (length(user_email) <= 320),
        action text NOT NULL CHECK (length(action) <= 64 AND action ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'),
        target_type text NOT NULL CHECK (length(target_type) <= 32),
        target_id text CHECK (length(target_id) <= 256),
        ip_address text CHECK (length(ip_address) <= 64),
        user_agent text CHECK (length(user_agent) <= 512),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
        "timestamp" timestamptz(3) NOT NULL,
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`CREATE UNIQUE INDEX audit_logs_seq_unique ON audit_logs (seq)`);
    // The org's log, newest first, keyset-paged on (timestamp, id).
    await q.query(`CREATE INDEX audit_logs_org_time_idx ON audit_logs (org_id, "timestamp" DESC, id DESC)`);
    // The chain: the last row of an org (append) and the walk in order (verify).
    await q.query(`CREATE INDEX audit_logs_org_seq_idx ON audit_logs (org_id, seq)`);
    await q.query(`CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id)`);
    await q.query(`CREATE INDEX audit_logs_target_idx ON audit_logs (target_type, target_id)`);
    // Retention (prune by age).
    await q.query(`CREATE INDEX audit_logs_timestamp_idx ON audit_logs ("timestamp")`);

    await q.query(`
      CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE'
           AND current_setting('saasready.audit_prune', true) = 'on'
           AND OLD."timestamp" < NULLIF(current_setting('saasready.audit_prune_before', true), '')::timestamptz
           AND OLD."timestamp" < now() - interval '1 day' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Audit rows are never changed; only the retention job deletes rows past AUDIT_RETENTION_DAYS.';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
      FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
      FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_logs`);
    await q.query(`DROP FUNCTION IF EXISTS audit_logs_append_only()`);
  }
}
