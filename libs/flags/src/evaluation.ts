import { createHash } from 'node:crypto';

/** Where an effective value comes from: an org override, the percentage rollout, or the default. */
export const FlagSource = {
  Org: 'org',
  Rollout: 'rollout',
  Default: 'default',
} as const;
export type FlagSource = (typeof FlagSource)[keyof typeof FlagSource];

/** Buckets of the rollout hash: 10,000, so a percentage maps to `percent * 100` buckets. */
export const ROLLOUT_BUCKETS = 10_000;

/** What evaluation needs of a definition. */
export interface FlagRule {
  defaultEnabled: boolean;
  /** 0..100, or null: no percentage rollout. */
  rolloutPercent: number | null;
}

export interface FlagEvaluation {
  enabled: boolean;
  source: FlagSource;
}

/**
 * The org's stable rollout bucket for a flag, 0..9,999: the first 4 bytes of SHA-256(`<key>:<org id>`)
 * as a big-endian uint32, modulo 10,000. Depends on nothing but the key and the (lower-cased) org id, so
 * every instance and every restart agrees; the key is in the hash, so the orgs of one flag's 10 % are
 * not those of another's.
 */
export function rolloutBucket(flagKey: string, orgId: string): number {
  const digest = createHash('sha256').update(`${flagKey}:${orgId.toLowerCase()}`, 'utf8').digest();
  return digest.readUInt32BE(0) % ROLLOUT_BUCKETS;
}

/**
 * Whether the org falls under the percentage. Monotonic: an org in at p % is in at every q >= p
 * (the bucket does not move, only the threshold); 0 % is no org, 100 % every org.
 */
export function inRollout(flagKey: string, orgId: string, percent: number): boolean {
  return rolloutBucket(flagKey, orgId) < percent * (ROLLOUT_BUCKETS / 100);
}

/**
 * The effective value of a flag for an org (pure): an override wins (`org`); else, when the definition
 * has a rollout percentage, the hash decides (`rollout`); else the definition's default, or off for a
 * key with no definition (`default`).
 */
export function evaluateFlag(
  flagKey: string,
  orgId: string,
  rule: FlagRule | null | undefined,
  override: { enabled: boolean } | null | undefined,
): FlagEvaluation {
  if (override) return { enabled: override.enabled, source: FlagSource.Org };
  if (rule && rule.rolloutPercent !== null) return { enabled: inRollout(flagKey, orgId, rule.rolloutPercent), source: FlagSource.Rollout };
  return { enabled: rule?.defaultEnabled ?? false, source: FlagSource.Default };
}
