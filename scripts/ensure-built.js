#!/usr/bin/env node
// `npm start` runs the built API; build first when dist/ is missing or older than the sources.
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const marker = join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const workerMarker = join(root, 'dist', 'apps', 'worker', 'apps', 'worker', 'src', 'main.js');

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const built = existsSync(marker) && existsSync(workerMarker) ? Math.min(statSync(marker).mtimeMs, statSync(workerMarker).mtimeMs) : 0;
const sources = Math.max(
  ...['apps', 'libs', 'migrations'].map((d) => newest(join(root, d))),
  statSync(join(root, 'tsconfig.json')).mtimeMs,
);
if (built < sources) {
  process.stdout.write('Building SaaSReady (dist/ is missing or older than the sources)...\n');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}
