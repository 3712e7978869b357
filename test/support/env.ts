/**
 * Where e2e suites run: the PostgreSQL of DATABASE_URL when it is set (a fresh database per suite),
 * else the embedded database (a fresh DATA_DIR per suite). Redis from REDIS_URL.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL || undefined;
export const TEST_REDIS_URL = process.env.REDIS_URL || undefined;
export const IN_CI = !!process.env.CI;

/** describe() for suites that need Redis: skipped (with a line saying so) only off CI without REDIS_URL. */
export function describeWithRedis(name: string, fn: () => void): void {
  if (!TEST_REDIS_URL && !IN_CI) {
    console.log(`SKIPPED "${name}": it needs Redis; set REDIS_URL to run it (CI always does).`);
    describe.skip(name, fn);
    return;
  }
  if (!TEST_REDIS_URL) throw new Error(`"${name}" needs Redis: REDIS_URL must be set in CI`);
  describe(name, fn);
}
