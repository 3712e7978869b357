import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, Clock, CommitStatement, isUuid, newId, RequestContext, TransactionService } from '@saasready/core';
import { AuditAction, AuditTargetType } from './audit.constants';
import { canonicalRow, ChainedFields, chainHash } from './chain';
import { AuditCursor } from './cursor';
import { cleanText, redactMetadata } from './redaction';

/** One event to record. Everything not given comes from the request context. */
export interface AuditEvent {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId?: string | null;
  /** Default: the org of the request path, else the caller's session org, else null. Pass null for none. */
  orgId?: string | null;
  /** Default: the signed-in caller (RequestContext.actor()). Pass null for an anonymous event. */
  actorId?: string | null;
  /** Default: the caller's email when the actor is the caller, else null. */
  userEmail?: string | null;
  /** Free-form details; goes through the redaction step (secrets never stored). */
  metadata?: Record<string, unknown>;
}

export interface AuditFilters {
  action?: string;
  actorId?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
}

/** Whose rows: one org's log, or the security events of one user (actor or target, across orgs). */
export type AuditScope = { orgId: string } | { subjectUserId: string };

/** A row as read back (everything the API shows, plus the chain columns). */
export interface AuditRow extends ChainedFields {
  seq: string;
  prevHash: string;
  hash: string;
}

/** A row as the list and the export read it (without the chain's seq and hashes). */
export type AuditListRow = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>;

export interface AuditVerification {
  valid: boolean;
  checked: number;
  firstInvalidId: string | null;
}

interface RawRow {
  id: string;
  seq: string;
  org_id: string | null;
  actor_id: string | null;
  user_email: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown>;
  timestamp: Date;
  prev_hash: string;
  hash: string;
}

/** What the list and the export show (not the chain's seq and hashes: less to read and parse). */
const LIST_COLUMNS = `id, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata, "timestamp"`;
const COLUMNS = `id, seq::text AS seq, org_id, actor_id, user_email, action, target_type, target_id, ip_address, user_agent, metadata, "timestamp", prev_hash, hash`;
const VERIFY_BATCH = 1000;
const PRUNE_BATCH = 5000;

/** See appendStatement(): the function of migration 1764404000000 (chain lock, last row, insert). */
const APPEND_STATEMENT = 'saasready_audit_append_v2';
const APPEND_SQL = `SELECT audit_append($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::timestamptz, $12)`;

const DAY_MS = 86_400_000;

/**
 * Writes and reads the audit log. Every row is appended to its org's hash chain (org_id null: its own
 * chain) by the database function `audit_append`: it locks the chain (an advisory lock held until
 * commit), reads the chain's last row and inserts the new one with prev_hash = that row's hash (genesis:
 * 64 zeros) and hash = SHA-256(canonical row + prev_hash).
 * `record` joins the ambient transaction (TransactionService) when there is one, so an event commits or
 * rolls back with the change it describes; outside one the append is a statement of its own.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly tx: TransactionService,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Appends one row; returns its id. Inside a transaction the row is written when it commits (in the
   * COMMIT's message: TransactionService.beforeCommit), and a row that cannot be written rolls the whole
   * transaction back (the transaction's `run` throws); outside one it is written at once and a failure
   * throws here. The canonical text is computed here (chainHash does the same in verify); PostgreSQL
   * hashes it with the previous row's hash.
   */
  async record(event: AuditEvent): Promise<string> {
    const ctx = RequestContext.current();
    const caller = ctx?.actor;
    const actorId = event.actorId !== undefined ? event.actorId : (caller?.userId ?? null);
    const userEmail = event.userEmail !== undefined ? event.userEmail : caller && actorId === caller.userId ? caller.email : null;
    const orgId = event.orgId !== undefined ? event.orgId : (ctx?.org?.orgId ?? caller?.currentOrgId ?? null);
    const row: ChainedFields = {
      id: newId(),
      orgId: uuidOrNull(orgId, 'orgId'),
      actorId: uuidOrNull(actorId, 'actorId'),
      userEmail: cleanText(userEmail, 320),
      action: event.action,
      targetType: event.targetType,
      targetId: cleanText(isUuid(event.targetId) ? event.targetId.toLowerCase() : event.targetId, 256),
      ipAddress: cleanText(ctx?.ip, 64),
      userAgent: cleanText(ctx?.userAgent, 512),
      metadata: redactMetadata(event.metadata ?? {}),
      timestamp: this.clock.now(),
    };
    await this.tx.beforeCommit(appendStatement(row));
    return row.id;
  }

  /** One page, newest first, keyset-paged on (timestamp, id); `next` is null on the last page. */
  async page(
    scope: AuditScope,
    filters: AuditFilters,
    limit: number,
    cursor?: AuditCursor,
  ): Promise<{ rows: AuditListRow[]; next: AuditCursor | null }> {
    const rows = await this.query(scope, filters, limit + 1, cursor);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, next: rows.length > limit && last ? { timestamp: last.timestamp, id: last.id } : null };
  }

  /** Every matching row, newest first, read in keyset batches: memory stays constant whatever the size. */
  async *iterate(scope: AuditScope, filters: AuditFilters, batchSize = 500): AsyncGenerator<AuditListRow[]> {
    let cursor: AuditCursor | undefined;
    for (;;) {
      const rows = await this.query(scope, filters, batchSize, cursor);
      if (rows.length) yield rows;
      if (rows.length < batchSize) return;
      const last = rows[rows.length - 1];
      cursor = { timestamp: last.timestamp, id: last.id };
    }
  }

  private async query(scope: AuditScope, filters: AuditFilters, limit: number, cursor?: AuditCursor): Promise<AuditListRow[]> {
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where: string[] = [];
    if ('orgId' in scope) where.push(`org_id = ${p(scope.orgId)}::uuid`);
    else {
      where.push(
        `(actor_id = ${p(scope.subjectUserId)}::uuid OR (target_type IN ('user', 'member') AND target_id = ${p(scope.subjectUserId)}::text))`,
      );
    }
    if (filters.action) where.push(`action = ${p(filters.action)}`);
    if (filters.actorId) where.push(`actor_id = ${p(filters.actorId.toLowerCase())}::uuid`);
    if (filters.since) where.push(`"timestamp" >= ${p(filters.since)}::timestamptz`);
    if (filters.until) where.push(`"timestamp" < ${p(filters.until)}::timestamptz`);
    if (cursor) where.push(`("timestamp", id) < (${p(cursor.timestamp)}::timestamptz, ${p(cursor.id)}::uuid)`);
    const raw: RawRow[] = await this.tx
      .manager()
      .query(
        `SELECT ${LIST_COLUMNS} FROM audit_logs WHERE ${where.join(' AND ')} ORDER BY "timestamp" DESC, id DESC LIMIT ${p(limit)}`,
        params,
      );
    return raw.map(toListRow);
  }

  /**
   * Walks an org's chain oldest first (in one REPEATABLE READ snapshot, keyset batches): each row's hash
   * must match its content and its prev_hash the hash of the row before. The oldest kept row's prev_hash
   * is the anchor (retention deletes the head of the chain). Stops at the first invalid row.
   */
  async verify(orgId: string | null): Promise<AuditVerification> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      let checked = 0;
      let prev: string | null = null;
      let afterSeq = '0';
      for (;;) {
        const raw: RawRow[] = orgId
          ? await m.query(`SELECT ${COLUMNS} FROM audit_logs WHERE org_id = $1 AND seq > $2 ORDER BY audit_logs.seq LIMIT $3`, [
              orgId,
              afterSeq,
              VERIFY_BATCH,
            ])
          : await m.query(`SELECT ${COLUMNS} FROM audit_logs WHERE org_id IS NULL AND seq > $1 ORDER BY audit_logs.seq LIMIT $2`, [
              afterSeq,
              VERIFY_BATCH,
            ]);
        for (const r of raw) {
          const row = toRow(r);
          checked++;
          if ((prev !== null && row.prevHash !== prev) || chainHash(row, row.prevHash) !== row.hash) {
            return { valid: false, checked, firstInvalidId: row.id };
          }
          prev = row.hash;
        }
        if (raw.length < VERIFY_BATCH) return { valid: true, checked, firstInvalidId: null };
        afterSeq = raw[raw.length - 1].seq;
      }
    });
  }

  /**
   * Retention: deletes rows older than AUDIT_RETENTION_DAYS before `now` (nothing when unset), through the
   * trigger's prune path, in batches of their own transactions. Per chain only a contiguous head goes (the
   * rows before the chain's first row that is kept), so a clock skew between instances can never punch a
   * hole in a chain: what stays still verifies, its oldest row's prev_hash being the anchor.
   * Returns the number of rows deleted.
   */
  async prune(now: Date = this.clock.now()): Promise<number> {
    const days = this.config.auditRetentionDays;
    if (!days) return 0;
    // The trigger refuses rows younger than a day whatever the settings say: never ask it to.
    const [{ cutoff }]: { cutoff: Date }[] = await this.dataSource.query(
      `SELECT LEAST($1::timestamptz, now() - interval '1 day') AS cutoff`,
      [new Date(now.getTime() - days * DAY_MS)],
    );
    const chains: { org_id: string | null }[] = await this.dataSource.query(
      `SELECT DISTINCT org_id FROM audit_logs WHERE "timestamp" < $1`,
      [cutoff],
    );
    let total = 0;
    for (const { org_id: orgId } of chains) total += await this.pruneChain(orgId, cutoff);
    if (total > 0) this.logger.log(`retention: deleted ${total} audit row(s) older than ${cutoff.toISOString()}`);
    return total;
  }

  private async pruneChain(orgId: string | null, cutoff: Date): Promise<number> {
    const chain = orgId ? `org_id = '${uuidOrNull(orgId, 'orgId')}'::uuid` : 'org_id IS NULL';
    const kept: { seq: string }[] = await this.dataSource.query(
      `SELECT seq::text AS seq FROM audit_logs WHERE ${chain} AND "timestamp" >= $1 ORDER BY audit_logs.seq LIMIT 1`,
      [cutoff],
    );
    const firstKept = kept[0]?.seq ?? null;
    let total = 0;
    for (;;) {
      const deleted = await this.dataSource.transaction(async (m) => {
        await m.query(`SELECT set_config('saasready.audit_prune', 'on', true), set_config('saasready.audit_prune_before', $1, true)`, [
          cutoff.toISOString(),
        ]);
        const rows: { n: number }[] = await m.query(
          `WITH doomed AS (
             SELECT id FROM audit_logs
             WHERE ${chain} AND "timestamp" < $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
             ORDER BY audit_logs.seq LIMIT $3),
           gone AS (DELETE FROM audit_logs WHERE id IN (SELECT id FROM doomed) RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [cutoff, firstKept, PRUNE_BATCH],
        );
        return rows[0]?.n ?? 0;
      });
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }
}

/** The append of one row: the function of migration 1764404000000 as a named (prepared) statement. */
function appendStatement(row: ChainedFields): CommitStatement {
  return {
    // Parsing and planning the call on every append cost the database as much as the append itself
    // (pgbench, PATCH /orgs transaction: 330 against 200 µs).
    name: APPEND_STATEMENT,
    text: APPEND_SQL,
    values: [
      row.id,
      row.orgId,
      row.actorId,
      row.userEmail,
      row.action,
      row.targetType,
      row.targetId,
      row.ipAddress,
      row.userAgent,
      JSON.stringify(row.metadata),
      row.timestamp.toISOString(),
      canonicalRow(row),
    ],
  };
}

function uuidOrNull(value: string | null | undefined, name: string): string | null {
  if (value === null || value === undefined) return null;
  if (!isUuid(value)) throw new Error(`audit: ${name} must be a UUID (got "${String(value).slice(0, 64)}")`);
  return value.toLowerCase();
}

function toListRow(r: Omit<RawRow, 'seq' | 'prev_hash' | 'hash'>): AuditListRow {
  return {
    id: r.id,
    orgId: r.org_id,
    actorId: r.actor_id,
    userEmail: r.user_email,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
    metadata: r.metadata,
    timestamp: new Date(r.timestamp),
  };
}

function toRow(r: RawRow): AuditRow {
  return { ...toListRow(r), seq: r.seq, prevHash: r.prev_hash, hash: r.hash };
}
