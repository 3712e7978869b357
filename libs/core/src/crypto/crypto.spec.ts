import { randomBytes } from 'node:crypto';
import { constantTimeEqual, Encryptor, randomToken, sha256 } from './crypto';

describe('Encryptor (AES-256-GCM envelope)', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh IV each time', () => {
    const e = new Encryptor(key);
    const a = e.encrypt('a secret: ünïcødé 🔐', 'aad-1');
    const b = e.encrypt('a secret: ünïcødé 🔐', 'aad-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret');
    expect(a.split('.')).toHaveLength(5);
    expect(a.startsWith(`v1.${e.keyId}.`)).toBe(true);
    expect(e.decrypt(a, 'aad-1')).toBe('a secret: ünïcødé 🔐');
    expect(e.decrypt(b, 'aad-1')).toBe('a secret: ünïcødé 🔐');
    expect(e.decrypt(e.encrypt(''), '')).toBe('');
  });

  it('refuses a tampered ciphertext, tag or iv', () => {
    const e = new Encryptor(key);
    const sealed = e.encrypt('top secret value');
    const parts = sealed.split('.');
    const flip = (s: string) => {
      const buf = Buffer.from(s, 'base64url');
      buf[0] ^= 0x01;
      return buf.toString('base64url');
    };
    for (const i of [2, 3, 4]) {
      const tampered = [...parts];
      tampered[i] = flip(parts[i]);
      expect(() => e.decrypt(tampered.join('.'))).toThrow();
    }
    expect(() => e.decrypt(parts.slice(0, 4).join('.'))).toThrow();
    expect(() => e.decrypt(['v2', ...parts.slice(1)].join('.'))).toThrow();
    expect(() => e.decrypt('garbage')).toThrow();
  });

  it('refuses another AAD (a value moved to another row)', () => {
    const e = new Encryptor(key);
    expect(() => e.decrypt(e.encrypt('x', 'signing-key:a'), 'signing-key:b')).toThrow();
  });

  it('refuses to decrypt with another key, even if the key id is forged', () => {
    const sealed = new Encryptor(key).encrypt('value');
    const other = new Encryptor(randomBytes(32));
    expect(() => other.decrypt(sealed)).toThrow(/unknown format or key/);
    const forged = ['v1', other.keyId, ...sealed.split('.').slice(2)].join('.');
    expect(() => other.decrypt(forged)).toThrow();
  });

  it('decrypts values sealed with a previous key after a key change, and seals with the new one', () => {
    const old = new Encryptor(key);
    const sealed = old.encrypt('value');
    const rotated = new Encryptor(randomBytes(32), [key]);
    expect(rotated.decrypt(sealed)).toBe('value');
    expect(rotated.encrypt('v').split('.')[1]).toBe(rotated.keyId);
    expect(rotated.keyId).not.toBe(old.keyId);
  });

  it('wants a 32-byte key', () => {
    expect(() => new Encryptor(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => new Encryptor(Buffer.alloc(0))).toThrow(/32 bytes/);
  });
});

describe('token helpers', () => {
  it('randomToken is URL-safe and 256 bits by default', () => {
    const t = randomToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(randomToken()).not.toBe(t);
  });

  it('sha256 is hex SHA-256', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('constantTimeEqual compares exactly', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
