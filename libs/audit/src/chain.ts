import { createHash } from 'node:crypto';

/** The columns of an audit row that its hash covers (everything but `seq`, `prev_hash` and `hash`). */
export interface ChainedFields {
  id: string;
  orgId: string | null;
  actorId: string | null;
  userEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  metadata: Record<string, unknown>;
  timestamp: Date;
}

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, at every depth), no whitespace, values as
 * JSON.stringify writes them. Equal values give equal strings, whatever the key order (jsonb reorders).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The row as hashed: snake_case names (as in the table), the timestamp as ISO 8601 UTC with milliseconds. */
export function canonicalRow(row: ChainedFields): string {
  return canonicalJson({
    id: row.id,
    org_id: row.orgId,
    actor_id: row.actorId,
    user_email: row.userEmail,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    ip_address: row.ipAddress,
    user_agent: row.userAgent,
    metadata: row.metadata,
    timestamp: row.timestamp.toISOString(),
  });
}

/** hash = SHA-256 (hex) of the canonical row followed by the previous row's hash. */
export function chainHash(row: ChainedFields, prevHash: string): string {
  return createHash('sha256')
    .update(canonicalRow(row) + prevHash, 'utf8')
    .digest('hex');
}
