import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { In, IsNull } from 'typeorm';
import {
  APP_CONFIG,
  AppConfig,
  AppException,
  Clock,
  ErrorCode,
  InvalidationBus,
  newId,
  randomToken,
  sha256,
  TransactionService,
  TtlCache,
  returnedRows,
} from '@saasready/core';
import { RefreshTokenEntity, SessionEntity } from './session.entity';

/** What every authenticated request needs to know about its session, kept in memory. */
export interface SessionState {
  userId: string;
  email: string;
  currentOrgId: string | null;
  revoked: boolean;
  userActive: boolean;
}

export interface NewSession {
  session: SessionEntity;
  refreshToken: string;
}

export type RevokeReason =
  'logout' | 'logout_all' | 'revoked_by_user' | 'password_changed' | 'password_reset' | 'refresh_reuse' | 'two_factor_changed';

/**
 * Sessions and their refresh tokens. A refresh token is 256 random bits, stored as SHA-256, single use:
 * each refresh marks it used (atomically) and issues the next; a used one presented again revokes the
 * session. Session state for the hot path is cached in memory and invalidated on every instance.
 */
@Injectable()
export class SessionService implements OnModuleInit {
  static readonly TOPIC = 'session';
  private readonly cache = new TtlCache<SessionState | null>(200_000, 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.bus.on(SessionService.TOPIC, (msg) => {
      if (msg === '*') this.cache.clear();
      else if (msg.startsWith('user:')) {
        const userId = msg.slice(5);
        this.cache.deleteWhere((_k, v) => v?.userId === userId);
      } else this.cache.delete(msg);
    });
  }

  async create(input: { userId: string; orgId: string | null; ip: string | null; userAgent: string | null }): Promise<NewSession> {
    const now = this.clock.now();
    const session: SessionEntity = {
      id: newId(),
      userId: input.userId,
      currentOrgId: input.orgId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.config.refreshTokenTtlMs),
      ipAddress: input.ip,
      userAgent: input.userAgent,
      revokedAt: null,
      revokeReason: null,
    };
    // The session and its first refresh token in one statement (one round trip on every login).
    const refreshToken = randomToken(32);
    await this.tx.manager().query(
      `WITH s AS (
         INSERT INTO sessions (id, user_id, current_org_id, created_at, last_used_at, expires_at, ip_address, user_agent)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)
       )
       INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($8, $1, $4, $5)`,
      [
        session.id,
        session.userId,
        session.currentOrgId,
        now,
        session.expiresAt,
        session.ipAddress,
        session.userAgent,
        sha256(refreshToken),
      ],
    );
    return { session, refreshToken };
  }

  private async issueRefreshToken(sessionId: string, now: Date): Promise<string> {
    const token = randomToken(32);
    await this.tx.repo(RefreshTokenEntity).insert({
      tokenHash: sha256(token),
      sessionId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.refreshTokenTtlMs),
      usedAt: null,
    });
    return token;
  }

  /**
   * Rotates a refresh token. Exactly one of any number of concurrent calls with one token wins the
   * conditional UPDATE; the others (and any later use) are reuse: the session is revoked.
   */
  async rotate(refreshToken: string, onReuse: (session: SessionEntity) => Promise<void>): Promise<NewSession> {
    const hash = sha256(refreshToken);
    const now = this.clock.now();
    const claimed = returnedRows<{ session_id: string; expires_at: Date }>(
      await this.tx
        .manager()
        .query(`UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL RETURNING session_id, expires_at`, [
          hash,
          now,
        ]),
    );
    if (claimed.length === 0) {
      const known = await this.tx.repo(RefreshTokenEntity).findOne({ where: { tokenHash: hash } });
      if (!known) throw AppException.unauthorized(ErrorCode.TokenInvalid, 'The refresh token is not valid.');
      const session = await this.tx.repo(SessionEntity).findOne({ where: { id: known.sessionId } });
      if (session && !session.revokedAt) {
        await this.revoke([session.id], 'refresh_reuse');
        await onReuse(session);
      }
      throw AppException.unauthorized(ErrorCode.RefreshTokenReused, 'This refresh token was already used; the session has been ended.');
    }
    const session = await this.tx.repo(SessionEntity).findOne({ where: { id: claimed[0].session_id } });
    if (!session || session.revokedAt) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    if (new Date(claimed[0].expires_at).getTime() <= now.getTime()) {
      throw AppException.unauthorized(ErrorCode.TokenExpired, 'The refresh token has expired; sign in again.');
    }
    session.lastUsedAt = now;
    session.expiresAt = new Date(now.getTime() + this.config.refreshTokenTtlMs);
    await this.tx.repo(SessionEntity).update({ id: session.id }, { lastUsedAt: now, expiresAt: session.expiresAt });
    return { session, refreshToken: await this.issueRefreshToken(session.id, now) };
  }

  /** Issues a fresh refresh token for a session and drops its unused ones (used by switch-org). */
  async reissue(sessionId: string): Promise<string> {
    const now = this.clock.now();
    await this.tx.repo(RefreshTokenEntity).delete({ sessionId, usedAt: IsNull() });
    await this.tx.repo(SessionEntity).update({ id: sessionId }, { lastUsedAt: now });
    return this.issueRefreshToken(sessionId, now);
  }

  async setCurrentOrg(sessionId: string, orgId: string | null): Promise<void> {
    await this.tx.repo(SessionEntity).update({ id: sessionId }, { currentOrgId: orgId });
    await this.tx.afterCommit(() => this.bus.publish(SessionService.TOPIC, sessionId));
  }

  /** Clears the current org of every session of `userId` scoped to `orgId` (membership ended). */
  async clearOrgForUser(userId: string, orgId: string): Promise<void> {
    await this.tx.repo(SessionEntity).update({ userId, currentOrgId: orgId }, { currentOrgId: null });
    await this.tx.afterCommit(() => this.bus.publish(SessionService.TOPIC, `user:${userId}`));
  }

  async revoke(sessionIds: string[], reason: RevokeReason): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const rows = returnedRows<{ id: string }>(
      await this.tx
        .manager()
        .query(`UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL RETURNING id`, [
          sessionIds,
          this.clock.now(),
          reason,
        ]),
    );
    for (const id of sessionIds) await this.tx.afterCommit(() => this.bus.publish(SessionService.TOPIC, id));
    return rows.map((r) => r.id);
  }

  /** Revokes every live session of the user, except `keep` if given. Returns the revoked ids. */
  async revokeAllForUser(userId: string, reason: RevokeReason, keep?: string): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.tx
        .manager()
        .query(
          `UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4) RETURNING id`,
          [userId, this.clock.now(), reason, keep ?? null],
        ),
    );
    await this.tx.afterCommit(() => this.bus.publish(SessionService.TOPIC, `user:${userId}`));
    return rows.map((r) => r.id);
  }

  async findLive(userId: string): Promise<SessionEntity[]> {
    const now = this.clock.now();
    // newest first; ids (UUIDv7) break ties within a millisecond
    const rows = await this.tx
      .repo(SessionEntity)
      .find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC', id: 'DESC' } });
    return rows.filter((s) => s.expiresAt.getTime() > now.getTime());
  }

  async findOwn(userId: string, sessionId: string): Promise<SessionEntity | null> {
    return this.tx.repo(SessionEntity).findOne({ where: { id: sessionId, userId, revokedAt: IsNull() } });
  }

  async findById(sessionId: string): Promise<SessionEntity | null> {
    return this.tx.repo(SessionEntity).findOne({ where: { id: sessionId } });
  }

  /** The cached state, if the cache holds one (no promise: the guard's hot path), else undefined. */
  cachedState(sessionId: string): SessionState | null | undefined {
    return this.cache.get(sessionId);
  }

  /** The hot-path check: memory first, one indexed query on a miss. */
  async state(sessionId: string): Promise<SessionState | null> {
    return this.cache.fill(
      sessionId,
      async () => {
        const rows: { user_id: string; email: string; current_org_id: string | null; revoked_at: Date | null; is_active: boolean }[] =
          await this.tx
            .manager()
            .query(
              `SELECT s.user_id, u.email, s.current_org_id, s.revoked_at, u.is_active FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
              [sessionId],
            );
        const row = rows[0];
        return row
          ? {
              userId: row.user_id,
              email: row.email,
              currentOrgId: row.current_org_id,
              revoked: row.revoked_at !== null,
              userActive: row.is_active,
            }
          : null;
      },
      !this.tx.inTransaction(),
    );
  }

  async sessionsOf(ids: string[]): Promise<SessionEntity[]> {
    return ids.length ? this.tx.repo(SessionEntity).find({ where: { id: In(ids) } }) : [];
  }
}
