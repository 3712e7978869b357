/** Fails fast, with a clear message, when DATABASE_URL is set but unreachable. */
export default async function globalSetup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw new Error(`DATABASE_URL is set but PostgreSQL is not reachable (${String(e)})`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}
