#!/usr/bin/env node
// Touch the build markers so ensure-built sees a complete build.
const { utimesSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const now = new Date();
for (const app of ['api', 'worker']) {
  const p = join(__dirname, '..', 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
  if (existsSync(p)) utimesSync(p, now, now);
}
