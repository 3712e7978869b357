#!/usr/bin/env node
// `npm run client:generate`: the generated part of the TypeScript client (libs/client/src/generated/),
// from openapi.json: the types (openapi.ts, by openapi-typescript) and the list of public operations
// (operations.ts: the ones that take no token, so the client neither sends one nor refreshes on their 401). `npm run client:check` (`--check`) regenerates them
// in memory and fails when the committed file differs (run `npm run openapi` first when the API changed).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'openapi.json');
const outDir = join(root, 'libs', 'client', 'src', 'generated');
const HEADER = `${COMMENT_HEADER.replace(' */', ' * Generated from openapi.json by `npm run client:generate` (scripts/client-generate.mjs).\n */')}`;

const document = JSON.parse(readFileSync(source, 'utf8'));
const ast = await openapiTS(document, { silent: true, alphabetize: false });
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const publicOperations = Object.entries(document.paths)
  .flatMap(([path, item]) => METHODS.filter((m) => item[m]?.security?.length === 0).map((m) => `${m.toUpperCase()} ${path}`))
  .sort();

const files = {
  'openapi.ts': `${HEADER}${astToString(ast)}`,
  'operations.ts':
    `/**\n * Generated from openapi.json by \`npm run client:generate\` (scripts/client-generate.mjs). Do not edit.\n */\n\n` +
    `/** The operations that take no access token (\`security: []\`), as "METHOD /path". */\n` +
    `export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([\n${publicOperations.map((o) => `  '${o}',\n`).join('')}]);\n`,
};

const check = process.argv.includes('--check');
let stale = false;
for (const [name, text] of Object.entries(files)) {
  const target = join(outDir, name);
  const rel = relative(root, target);
  if (check) {
    let committed = '';
    try {
      committed = readFileSync(target, 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== text) {
      process.stderr.write(`client: ${rel} is stale: run \`npm run client:generate\` and commit the result\n`);
      stale = true;
    } else process.stdout.write(`${rel} is up to date\n`);
  } else {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(target, text);
    process.stdout.write(`wrote ${rel}\n`);
  }
}
process.exit(stale ? 1 : 0);
