#!/usr/bin/env node
// `npm run openapi`: writes openapi.json (the committed OpenAPI document) from the API's controllers.
// `npm run openapi:check`: builds it again in memory and fails when the committed file differs.
//
// Works from a clean clone (no dist/, no database, no Redis): the API's sources are compiled (emit
// only, no type check) into a temporary folder under node_modules/.cache with the @nestjs/swagger CLI
// plugin and the plugin options of nest-cli.json, so DTOs are documented as in the built service. The
// Nest application is then created in preview mode (no provider is instantiated: nothing connects,
// nothing listens), with the API's global prefix, and buildOpenApi() (apps/api/src/app.factory.ts)
// makes the document. test/client/client.e2e-spec.ts checks that the routes, operationIds and
// x-permission of the written file are those the running API serves.
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { before as swaggerPlugin } from '@nestjs/swagger/plugin';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const target = join(root, 'openapi.json');

function fail(message) {
  process.stderr.write(`openapi: ${message}\n`);
  process.exit(1);
}

/** Compiles the API (app.factory.ts and what it imports) into outDir with the swagger plugin. */
function compile(outDir) {
  const configPath = join(root, 'apps', 'api', 'tsconfig.app.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    { outDir, rootDir: root, sourceMap: false, declaration: false, noEmitOnError: false, incremental: false },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')) },
  );
  if (!parsed) fail(`cannot read ${configPath}`);
  const program = ts.createProgram({ rootNames: [join(root, 'apps', 'api', 'src', 'app.factory.ts')], options: parsed.options });
  const nestCli = JSON.parse(readFileSync(join(root, 'nest-cli.json'), 'utf8'));
  const plugin = (nestCli.compilerOptions?.plugins ?? []).find((p) => (typeof p === 'string' ? p : p.name) === '@nestjs/swagger');
  if (!plugin) fail('nest-cli.json has no @nestjs/swagger plugin');
  const result = program.emit(undefined, undefined, undefined, false, {
    before: [swaggerPlugin(typeof plugin === 'object' ? plugin.options : {}, program)],
  });
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    fail(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  }
  return parsed.options;
}

// Key order of the file: the keys of FIRST first (in that order), the others alphabetically; paths
// alphabetically, their methods in HTTP order; schema properties as declared. A diff of the file then
// shows real changes only, whatever the order decorators or modules are declared in.
const FIRST = [
  'openapi',
  'info',
  'servers',
  'security',
  'tags',
  'paths',
  'components',
  'title',
  'version',
  'url',
  'name',
  'in',
  'operationId',
  'summary',
  'description',
  'x-permission',
  'x-permission-self',
  'parameters',
  'requestBody',
  'responses',
  'type',
  'format',
  'required',
];
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'];

function canonical(value, key, parentKey) {
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  if (value === null || typeof value !== 'object') return value;
  const rank = (k) => {
    if (key === 'paths') return [0, k];
    if (parentKey === 'paths' && METHODS.includes(k)) return [METHODS.indexOf(k), ''];
    const i = FIRST.indexOf(k);
    return i >= 0 ? [i, ''] : [FIRST.length, k];
  };
  const keys = Object.keys(value);
  if (key !== 'properties') {
    keys.sort((a, b) => {
      const [ra, ka] = rank(a);
      const [rb, kb] = rank(b);
      return ra - rb || (ka < kb ? -1 : ka > kb ? 1 : 0);
    });
  }
  return Object.fromEntries(keys.map((k) => [k, canonical(value[k], k, key)]));
}

async function build() {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'saasready-openapi-'));
  try {
    const options = compile(outDir);
    require('tsconfig-paths').register({ baseUrl: outDir, paths: options.paths, addMatchAll: false });
    require('reflect-metadata');
    const { NestFactory } = require('@nestjs/core');
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    const { loadConfig } = require(join(outDir, 'libs', 'core', 'src', 'index.js'));
    const { API_PREFIX, UNPREFIXED_ROUTES, buildOpenApi } = require(join(outDir, 'apps', 'api', 'src', 'app.factory.js'));
    const { ApiModule } = require(join(outDir, 'apps', 'api', 'src', 'api.module.js'));
    // Any valid configuration: nothing connects in preview mode, and no route depends on it.
    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
      ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    const app = await NestFactory.create(ApiModule.forRoot({ config }), new FastifyAdapter(), {
      preview: true,
      logger: false,
      abortOnError: false,
      bodyParser: false,
    });
    // As createApiApp (apps/api/src/app.factory.ts) sets it.
    app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
    const document = buildOpenApi(app);
    await app.close();
    return `${JSON.stringify(canonical(document), null, 2)}\n`;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const text = await build();
const rel = relative(root, target);
if (process.argv.includes('--check')) {
  let committed = null;
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    fail(`${rel} is missing: run \`npm run openapi\` and commit it`);
  }
  if (committed !== text) fail(`${rel} is stale: run \`npm run openapi\` (then \`npm run client:generate\`) and commit the result`);
  process.stdout.write(`${rel} is up to date\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${rel}\n`);
}
process.exit(0);
