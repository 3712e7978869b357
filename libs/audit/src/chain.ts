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
 * JSON.stringify writes them (a key whose value is undefined is left out, as JSON.stringify does). Equal
 * values give equal strings, whatever the key order (jsonb reorders).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Most objects arrive sorted already (redacted metadata is small): sort only when not.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** A text column as canonical JSON writes it. */
function text(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/**
 * The row as hashed: canonicalJson of the snake_case columns (as in the table), the timestamp as ISO 8601
 * UTC with milliseconds. Written out with the keys in their sorted order (one string, no key sorting):
 * the same text canonicalJson gives for the object.
 */
export function canonicalRow(row: ChainedFields): string {
  return (
    `{"action":${text(row.action)},"actor_id":${text(row.actorId)},"id":${text(row.id)},` +
    `"ip_address":${text(row.ipAddress)},"metadata":${canonicalJson(row.metadata)},"org_id":${text(row.orgId)},` +
    `"target_id":${text(row.targetId)},"target_type":${text(row.targetType)},` +
    `"timestamp":"${row.timestamp.toISOString()}","user_agent":${text(row.userAgent)},"user_email":${text(row.userEmail)}}`
  );
}

/** hash = SHA-256 (hex) of the canonical row followed by the previous row's hash. */
export function chainHash(row: ChainedFields, prevHash: string): string {
  return createHash('sha256')
    .update(canonicalRow(row) + prevHash, 'utf8')
    .digest('hex');
}
