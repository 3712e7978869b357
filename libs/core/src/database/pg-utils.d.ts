/** node-postgres' value conversion (pg/lib/utils, exported by the package but not typed by @types/pg). */
declare module 'pg/lib/utils' {
  export function prepareValue(value: unknown): unknown;
}
