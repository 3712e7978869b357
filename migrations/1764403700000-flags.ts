import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Feature flags (issue 7, libs/flags):
 * - `feature_flags`: the global definitions, written by instance admins. `rollout_percent` null means
 *   no percentage rollout (then `default_enabled` decides).
 * - `org_feature_flags`: per-organization overrides. `flag_key` has no foreign key on purpose: an
 *   override may exist for a key with no global definition. The rows go with their organization.
 * Keys follow `^[a-z0-9][a-z0-9_.-]{0,63}$` (the API checks it first; the CHECKs keep the tables honest).
 */
export class Flags1764403700000 implements MigrationInterface {
  name = 'Flags1764403700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feature_flags (
        key text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
        description text NOT NULL DEFAULT '',
        default_enabled boolean NOT NULL,
        rollout_percent integer CHECK (rollout_percent BETWEEN 0 AND 100),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE org_feature_flags (
        org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        flag_key text NOT NULL CHECK (flag_key ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
        enabled boolean NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, flag_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['org_feature_flags', 'feature_flags']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
