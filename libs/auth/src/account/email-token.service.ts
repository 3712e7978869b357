import { Injectable } from '@nestjs/common';
import { Clock, newId, randomToken, sha256, TransactionService, returnedRows } from '@saasready/core';
import { EmailTokenKind } from './email-token.entity';

/** How long a link is valid (API.md: verification 24 h, reset 1 h). */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenKind, number> = {
  email_verification: 24 * 3_600_000,
  password_reset: 3_600_000,
};

/** Issues and redeems email link tokens (joins the ambient transaction). */
@Injectable()
export class EmailTokenService {
  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
  ) {}

  /** A new token for `userId`; the user's older live token of this kind is void from now on. Returns the raw token. */
  async issue(userId: string, kind: EmailTokenKind): Promise<{ token: string; expiresAt: Date }> {
    const token = randomToken(32);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + EMAIL_TOKEN_TTL_MS[kind]);
    // One live row per (user, kind): replacing its hash voids the old link atomically, also under concurrency.
    await this.tx.manager().query(
      `INSERT INTO email_tokens (id, user_id, kind, token_hash, expires_at, used_at, created_at)
       VALUES ($1, $2, $3, $4, $5, NULL, $6)
       ON CONFLICT (user_id, kind) WHERE used_at IS NULL
       DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at`,
      [newId(), userId, kind, sha256(token), expiresAt, now],
    );
    return { token, expiresAt };
  }

  /**
   * Uses a token once: the user id if `token` is a live (unused, unexpired, not replaced) token of `kind`,
   * else null. A conditional UPDATE, so two concurrent redemptions cannot both succeed.
   */
  async consume(token: string, kind: EmailTokenKind): Promise<string | null> {
    const rows = returnedRows<{ user_id: string }>(
      await this.tx
        .manager()
        .query(
          `UPDATE email_tokens SET used_at = $3 WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id`,
          [sha256(token), kind, this.clock.now()],
        ),
    );
    return rows[0]?.user_id ?? null;
  }
}
