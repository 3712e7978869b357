import { MigrationInterface, QueryRunner } from 'typeorm';

/** TOTP two-factor: the sealed secret (and a pending one during set-up), the replay guard, backup codes. */
export class TwoFactor1764403600000 implements MigrationInterface {
  name = 'TwoFactor1764403600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN two_factor_secret text`);
    await q.query(`ALTER TABLE users ADD COLUMN two_factor_pending_secret text`);
    await q.query(`ALTER TABLE users ADD COLUMN two_factor_last_step bigint`);
    await q.query(`
      CREATE TABLE two_factor_backup_codes (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        active boolean NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX two_factor_backup_codes_user_idx ON two_factor_backup_codes (user_id, code_hash)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS two_factor_backup_codes`);
    await q.query(
      `ALTER TABLE users DROP COLUMN IF EXISTS two_factor_secret, DROP COLUMN IF EXISTS two_factor_pending_secret, DROP COLUMN IF EXISTS two_factor_last_step`,
    );
  }
}
