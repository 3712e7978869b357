import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig, Clock, Encryptor, InvalidationBus, newId } from '@saasready/core';
import { SigningKeyEntity } from './signing-key.entity';

const generateKeyPairAsync = promisify(generateKeyPair);
const KEYS_LOCK = 7_340_001; // pg advisory lock id for key creation/rotation

export interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, string>;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * RS256 signing keys kept in the database (private keys sealed with ENCRYPTION_KEY), shared by every
 * instance. The first start creates one under an advisory lock (safe when several start at once);
 * `npm run keys:rotate` adds a new one and retires the old, which stays published until its tokens expire.
 */
@Injectable()
export class KeyService implements OnModuleInit {
  static readonly TOPIC = 'signing-keys';
  private readonly logger = new Logger('Keys');
  private readonly encryptor: Encryptor;
  private keys = new Map<string, LoadedKey>();
  private active?: LoadedKey;
  private lastReload = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.encryptor = new Encryptor(config.encryptionKey);
  }

  async onModuleInit(): Promise<void> {
    this.bus.on(KeyService.TOPIC, () => void this.reload().catch((e: unknown) => this.logger.error(String(e))));
  }

  /** Loads the keys, creating the first one if there is none. Called once the schema exists. */
  async ensureReady(): Promise<void> {
    await this.reload();
    if (this.active) return;
    await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
      if (!(await this.hasActive(m))) await this.insertKey(m);
    });
    await this.reload();
    if (!this.active) throw new Error('No signing key could be loaded');
  }

  private async hasActive(m: EntityManager): Promise<boolean> {
    const rows: unknown[] = await m.query('SELECT 1 FROM signing_keys WHERE retired_at IS NULL LIMIT 1');
    return rows.length > 0;
  }

  /** Adds a new active key and retires the previous one(s). Returns the new kid. */
  async rotate(): Promise<string> {
    const kid = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
      await m.query('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL', [this.clock.now()]);
      return this.insertKey(m);
    });
    await this.bus.publish(KeyService.TOPIC, kid);
    await this.reload();
    return kid;
  }

  private async insertKey(m: EntityManager): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    const kid = newId();
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await m.insert(SigningKeyEntity, {
      kid,
      privateKeyEncrypted: this.encryptor.encrypt(pem, `signing-key:${kid}`),
      publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' },
      createdAt: this.clock.now(),
      retiredAt: null,
    });
    this.logger.log(`created signing key ${kid}`);
    return kid;
  }

  async reload(): Promise<void> {
    this.lastReload = Date.now();
    const rows = await this.dataSource.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
    const keys = new Map<string, LoadedKey>();
    for (const row of rows) {
      const cached = this.keys.get(row.kid);
      if (cached) {
        keys.set(row.kid, { ...cached, retiredAt: row.retiredAt });
        continue;
      }
      const pem = this.encryptor.decrypt(row.privateKeyEncrypted, `signing-key:${row.kid}`);
      const privateKey = createPrivateKey(pem);
      keys.set(row.kid, {
        kid: row.kid,
        privateKey,
        publicKey: createPublicKey(privateKey),
        publicJwk: row.publicJwk,
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
      });
    }
    this.keys = keys;
    this.active = [...keys.values()].find((k) => k.retiredAt === null);
  }

  signingKey(): LoadedKey {
    if (!this.active) throw new Error('Signing keys are not loaded');
    return this.active;
  }

  /** The verification key for a kid: active, or retired less than one access-token lifetime ago. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    let key = this.keys.get(kid);
    // An unknown kid may be a key another instance just made: reload, at most once a second.
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.get(kid);
    }
    if (!key || !this.isPublished(key)) return undefined;
    return key.publicKey;
  }

  /** Whether tokens signed with this kid are still accepted (the key is known and published). */
  isPublishedKid(kid: string): boolean {
    const key = this.keys.get(kid);
    return key !== undefined && this.isPublished(key);
  }

  private isPublished(key: LoadedKey): boolean {
    return key.retiredAt === null || key.retiredAt.getTime() + this.config.accessTokenTtlMs > this.clock.nowMs();
  }

  jwks(): { keys: Record<string, string>[] } {
    return { keys: [...this.keys.values()].filter((k) => this.isPublished(k)).map((k) => k.publicJwk) };
  }
}
