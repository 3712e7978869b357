import { Initial1764403200000 } from './1764403200000-initial';
import { Audit1764403300000 } from './1764403300000-audit';
import { Mail1764403500000 } from './1764403500000-mail';
import { TwoFactor1764403600000 } from './1764403600000-two-factor';
import { Flags1764403700000 } from './1764403700000-flags';
import { AuditChainHeads1764403800000 } from './1764403800000-audit-chain-heads';
import { AuditLighterAppend1764403900000 } from './1764403900000-audit-lighter-append';
import { AuditAppendFunction1764404000000 } from './1764404000000-audit-append-function';
import { AuditAppendChecks1764404100000 } from './1764404100000-audit-append-checks';

/** Every migration, in order. A new one is added here (explicit list, no globs). */
export const MIGRATIONS = [
  Initial1764403200000,
  Audit1764403300000,
  Mail1764403500000,
  TwoFactor1764403600000,
  Flags1764403700000,
  AuditChainHeads1764403800000,
  AuditLighterAppend1764403900000,
  AuditAppendFunction1764404000000,
  AuditAppendChecks1764404100000,
];
