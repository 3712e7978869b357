import { AppException, isUuid } from '@saasready/core';

/** A position in a newest-first list: the (timestamp, id) of the last row of the previous page. */
export interface AuditCursor {
  timestamp: Date;
  id: string;
}

/** Opaque to clients: base64url of a small JSON document. */
export function encodeCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.timestamp.toISOString(), i: cursor.id }), 'utf8').toString('base64url');
}

/** Decodes a client's cursor; anything that is not one of ours is 400 validation_failed. */
export function decodeCursor(value: string): AuditCursor {
  const invalid = () => AppException.validation([{ field: 'cursor', message: 'is not a valid cursor' }]);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(value)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { t, i } = (parsed ?? {}) as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(t) || !isUuid(i)) throw invalid();
  const timestamp = new Date(t);
  if (Number.isNaN(timestamp.getTime())) throw invalid();
  return { timestamp, id: i.toLowerCase() };
}
