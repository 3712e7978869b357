import { Logger } from '@nestjs/common';
import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';
import type { FetchLike } from './options';

export interface JwksCacheOptions {
  url: string;
  fetch: FetchLike;
  now: () => number;
  /** Keys older than this are fetched again in the background (the old ones serve meanwhile). */
  ttlMs: number;
  /** At most one fetch for an unknown `kid` per this period; also the pause after a failed fetch. */
  cooldownMs: number;
  timeoutMs: number;
}

/** The JWKS could not be fetched and no key is cached: the request cannot be verified (503). */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

const MIN_RSA_BITS = 2048;

/**
 * The service's public keys by `kid`, fetched from its JWKS and kept in memory.
 *
 * - first use: one fetch (concurrent callers share it);
 * - older than `ttlMs`: refetched in the background; the cached keys keep serving (a service that is
 *   briefly down does not stop this app from verifying tokens);
 * - an unknown `kid` (the service rotated its key): one refetch, then the answer; at most one such refetch
 *   per `cooldownMs`, however many different `kid`s arrive (a token can carry any `kid`);
 * - a failed fetch: no new attempt for `cooldownMs`.
 *
 * Only RSA keys of at least 2048 bits meant for RS256 signatures are kept.
 */
export class JwksCache {
  private readonly logger = new Logger('SaaSReadyJwks');
  private keys = new Map<string, KeyObject>();
  private loaded = false;
  private fetchedAt = 0;
  private lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;
  private inflight?: Promise<void>;
  private fetches = 0;
  /** Bumped by every successful fetch. */
  private generation = 0;

  constructor(private readonly options: JwksCacheOptions) {}

  /** How many times the JWKS has been requested (observability). */
  get fetchCount(): number {
    return this.fetches;
  }

  /** The kids currently cached. */
  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /** The public key for `kid`, or undefined when the service does not publish it. Throws JwksUnavailableError. */
  async getKey(kid: string): Promise<KeyObject | undefined> {
    const now = this.options.now();
    const generation = this.generation;
    if (!this.loaded) {
      if (this.inFailurePause(now) && !this.inflight) throw new JwksUnavailableError('the JWKS could not be fetched');
      await this.refresh().catch(() => undefined);
      if (!this.loaded) throw new JwksUnavailableError('the JWKS could not be fetched');
    } else if (now - this.fetchedAt >= this.options.ttlMs && !this.inFailurePause(now)) {
      void this.refresh().catch(() => undefined);
    }
    let key = this.keys.get(kid);
    if (key) return key;
    if (this.inflight) {
      await this.inflight.catch(() => undefined);
      key = this.keys.get(kid);
      if (key) return key;
    }
    // Keys fetched while this call waited are as fresh as a refetch would be.
    if (this.generation !== generation) return undefined;
    if (now - this.lastUnknownKidFetchAt >= this.options.cooldownMs && !this.inFailurePause(now)) {
      this.lastUnknownKidFetchAt = now;
      await this.refresh().catch(() => undefined);
      key = this.keys.get(kid);
    }
    return key;
  }

  private inFailurePause(now: number): boolean {
    return now - this.failedAt < this.options.cooldownMs;
  }

  /** Fetches the JWKS now (concurrent callers share one request). */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.fetches++;
    try {
      const res = await this.options.fetch(this.options.url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(body?.keys)) throw new Error('the answer has no "keys" array');
      const keys = new Map<string, KeyObject>();
      for (const jwk of body.keys as JsonWebKey[]) {
        const key = toVerificationKey(jwk);
        if (key) keys.set(jwk.kid as string, key);
      }
      this.keys = keys;
      this.loaded = true;
      this.generation++;
      this.fetchedAt = this.options.now();
    } catch (e) {
      this.failedAt = this.options.now();
      this.logger.warn(`could not fetch ${this.options.url}: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }
}

/** A JWK usable to verify RS256 signatures, as a KeyObject; anything else is skipped. */
function toVerificationKey(jwk: JsonWebKey): KeyObject | undefined {
  if (!jwk || typeof jwk !== 'object' || typeof jwk.kid !== 'string' || jwk.kid.length === 0) return undefined;
  if (jwk.kty !== 'RSA' || (jwk.alg !== undefined && jwk.alg !== 'RS256') || (jwk.use !== undefined && jwk.use !== 'sig')) return undefined;
  if (jwk.d !== undefined) return undefined; // a private key has no business in a JWKS
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
    return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS ? key : undefined;
  } catch {
    return undefined;
  }
}
