import { createHostApp } from './host-app';

// An example reads its few settings straight from the environment.
// eslint-disable-next-line no-restricted-properties
const env = process.env;

async function main(): Promise<void> {
  const saasreadyUrl = env.SAASREADY_URL ?? 'http://localhost:8000';
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${env.PORT}`);
  const app = await createHostApp({
    saasreadyUrl,
    issuer: env.SAASREADY_ISSUER || undefined,
    audience: env.SAASREADY_AUDIENCE || undefined,
  });
  app.enableShutdownHooks();
  await app.listen(port, env.HOST ?? '127.0.0.1');
  console.log(`host app on ${await app.getUrl()} (SaaSReady at ${saasreadyUrl})`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
