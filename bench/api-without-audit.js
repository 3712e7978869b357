#!/usr/bin/env node
// `npm run bench` only: the built API with AuditService.record as a no-op, so that the bench can measure
// what writing the audit row costs an audited mutation (same process shape, same database).
// Never run it for real: nothing it changes is audited.
'use strict';
const path = require('node:path');
const dist = path.join(__dirname, '../dist/apps/api');
const { AuditService } = require(path.join(dist, 'libs/audit/src/audit.service.js'));
AuditService.prototype.record = async function record() {
  return 'not-recorded';
};
require(path.join(dist, 'apps/api/src/main.js'));
