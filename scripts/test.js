#!/usr/bin/env node
// `npm test`: the one test command. Unit specs and e2e suites (Jest); on the PostgreSQL of DATABASE_URL
// when set, else on the embedded database. Extra arguments go to Jest.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const mode = process.env.DATABASE_URL
  ? `PostgreSQL at ${process.env.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}`
  : 'the embedded database (PGlite)';
console.log(
  `npm test: e2e suites run on ${mode}; Redis: ${process.env.REDIS_URL ? process.env.REDIS_URL : 'not set (Redis suites are skipped off CI)'}`,
);
// NestJS 12 is ESM: Jest runs in its native ESM mode.
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
};
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--ci', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env,
});
process.exit(jest.status ?? 1);
