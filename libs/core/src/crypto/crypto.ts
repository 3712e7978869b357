import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random token of `bytes` bytes (default 32 = 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex of a high-entropy secret (tokens); passwords use argon2id instead. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * AES-256-GCM envelope: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id is the first
 * 8 hex chars of SHA-256(key), so a value names the key that sealed it and keys can be rotated.
 */
export class Encryptor {
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(primary: Buffer, previous: Buffer[] = []) {
    if (primary.length !== 32) throw new Error('Encryption key must be 32 bytes');
    this.keyId = Encryptor.idOf(primary);
    this.keys.set(this.keyId, primary);
    for (const k of previous) this.keys.set(Encryptor.idOf(k), k);
  }

  static idOf(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(sealed: string, aad = ''): string {
    const [version, keyId, iv, tag, ct] = sealed.split('.');
    const key = this.keys.get(keyId);
    if (version !== 'v1' || !key || !iv || !tag || ct === undefined) throw new Error('Cannot decrypt: unknown format or key');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
