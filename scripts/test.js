#!/usr/bin/env node
// `npm test`: the one test command. Unit specs and e2e suites (Jest); on the PostgreSQL of DATABASE_URL
// when set, else on the embedded database. Extra arguments go to Jest.
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, rmSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
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
const resultsDir = mkdtempSync(join(tmpdir(), 'saasready-jest-'));
const results = join(resultsDir, 'results.json');
const jest = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '--ci', '--json', `--outputFile=${results}`, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
    env,
  },
);
let status = jest.status ?? 1;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  // The plain closing line CI reads.
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) status = status || 1;
} else {
  console.log('\n0 passed, 1 failed (Jest wrote no results)');
  status = status || 1;
}
rmSync(resultsDir, { recursive: true, force: true });
process.exit(status);
