import { cleanText, isSecretKey, redactMetadata, REDACTED } from './redaction';

describe('audit redaction', () => {
  it.each([
    'password',
    'new_password',
    'currentPassword',
    'token',
    'refresh_token',
    'access_token',
    'invitationToken',
    'code',
    'two_factor_code',
    'secret',
    'totp_secret',
    'backup_codes',
    'key',
    'api_key',
    'X-Api-Key',
    'private_key',
    'authorization',
    'Authorization',
    'cookie',
    'token_hash',
  ])('treats %s as a secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['reason', 'session_id', 'flag_key', 'country_code', 'email', 'role_name', 'keyboard', 'tokenizer_version'])(
    'keeps %s',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );

  it('answers the same from its memo, also once more keys than it keeps have gone through', () => {
    for (let i = 0; i < 2500; i++) isSecretKey(`field_${i}`);
    expect([isSecretKey('api_key'), isSecretKey('apiKey'), isSecretKey('flag_key'), isSecretKey('field_7')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    for (let i = 0; i < 3; i++) expect(isSecretKey('backup_codes')).toBe(true);
  });

  it('masks secrets at any depth, in arrays too, and keeps the rest', () => {
    const out = redactMetadata({
      reason: 'invalid_password',
      password: 'hunter2-hunter2',
      nested: { deeper: { refresh_token: 'abc', list: [{ code: '123456' }, { ok: 1 }] } },
      headers: { Authorization: 'Bearer eyJhbGciOi' },
      note: 'Bearer abc.def.ghi',
      jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
    });
    expect(out).toEqual({
      reason: 'invalid_password',
      password: REDACTED,
      nested: { deeper: { refresh_token: REDACTED, list: [{ code: REDACTED }, { ok: 1 }] } },
      headers: { Authorization: REDACTED },
      note: REDACTED,
      jwt: REDACTED,
    });
    expect(JSON.stringify(out)).not.toMatch(/hunter2|123456|abc\.def/);
  });

  it('keeps only JSON values, caps depth and strips NUL characters', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const out = redactMetadata({ when: new Date(0), n: BigInt(5), f: () => 1, u: undefined, nan: NaN, s: 'a\u0000b', deep });
    expect(out).toMatchObject({ when: '1970-01-01T00:00:00.000Z', n: '5', nan: null, s: 'ab' });
    expect(out).not.toHaveProperty('f');
    expect(out).not.toHaveProperty('u');
    expect(JSON.stringify(out)).toContain('[truncated]');
  });

  it('keeps a "__proto__" key as data', () => {
    const out = redactMetadata(JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('cleans one-line text: control characters out, capped', () => {
    expect(cleanText('Mozilla\r\n\tEvil\u0007', 512)).toBe('MozillaEvil');
    expect(cleanText('x'.repeat(600), 512)).toHaveLength(512);
    expect(cleanText('', 10)).toBeNull();
    expect(cleanText(null, 10)).toBeNull();
  });
});
