/**
 * The rows of a raw `manager.query(...)`. TypeORM's PostgreSQL driver answers `[rows, rowCount]` for
 * UPDATE and DELETE (also with RETURNING) and the rows for everything else.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
