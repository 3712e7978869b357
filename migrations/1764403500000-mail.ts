import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email and invitations (issue 4):
 * - `email_outbox` (libs/mail): the transactional outbox. `text`/`html` are encrypted (they carry
 *   one-time links). `next_attempt_at` schedules in-process delivery and its retries; `relayed_at`
 *   records when the Redis relay last queued the row.
 * - `email_tokens` (libs/auth): email-verification and password-reset link tokens, SHA-256 only; at
 *   most one live (unused) token per user and kind, so a new link replaces (voids) the older one.
 * - `invitations` (libs/invitations): token SHA-256 only; at most one pending invitation per
 *   organization and email (case-insensitive). Expiry is computed from `expires_at`; rows turned
 *   'expired' are only those a newer invitation replaced.
 */
export class Mail1764403500000 implements MigrationInterface {
  name = 'Mail1764403500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_outbox (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        "to" text NOT NULL,
        subject text NOT NULL,
        text text NOT NULL,
        html text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        next_attempt_at timestamptz NOT NULL,
        relayed_at timestamptz
      )`);
    await q.query(`CREATE INDEX email_outbox_pending_idx ON email_outbox (next_attempt_at, id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE email_tokens (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('email_verification', 'password_reset')),
        token_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX email_tokens_hash_unique ON email_tokens (token_hash)`);
    await q.query(`CREATE UNIQUE INDEX email_tokens_live_unique ON email_tokens (user_id, kind) WHERE used_at IS NULL`);

    await q.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        email text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
        role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        token_hash text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
        expires_at timestamptz NOT NULL,
        invited_by uuid REFERENCES users(id) ON DELETE SET NULL,
        accepted_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX invitations_token_hash_unique ON invitations (token_hash)`);
    await q.query(`CREATE UNIQUE INDEX invitations_pending_email_unique ON invitations (org_id, lower(email)) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX invitations_org_idx ON invitations (org_id, id)`);
    await q.query(`CREATE INDEX invitations_role_idx ON invitations (role_id) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['invitations', 'email_tokens', 'email_outbox']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
