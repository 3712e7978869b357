import { AppException } from '@saasready/core';
import { commonPasswordCount, isCommonPassword } from './common-passwords';
import { normalizePassword, PasswordService } from './password.service';

const argon2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

describe('PasswordService', () => {
  const service = new PasswordService({ argon2 } as never);

  function refusal(password: string): { status: number; code: string; errors?: { field: string }[] } | undefined {
    try {
      service.assertAcceptable(password);
      return undefined;
    } catch (e) {
      expect(e).toBeInstanceOf(AppException);
      const a = e as AppException;
      return { status: a.getStatus(), code: a.code, errors: a.errors };
    }
  }

  describe('assertAcceptable', () => {
    it('accepts 8 to 128 code points and returns the NFKC form', () => {
      expect(service.assertAcceptable('kq7#vz2m')).toBe('kq7#vz2m');
      expect(service.assertAcceptable('kq7#vz2m'.repeat(16))).toHaveLength(128);
      expect(service.assertAcceptable('ｚｅｂｒａ－ｃｏｍｅｔ－７７')).toBe('zebra-comet-77');
    });

    it('refuses fewer than 8 or more than 128 code points: 400 validation_failed on the field', () => {
      expect(refusal('kq7#vz2')).toEqual({
        status: 400,
        code: 'validation_failed',
        errors: [{ field: 'password', message: expect.any(String) }],
      });
      expect(refusal('kq7#vz2m'.repeat(16) + 'x')).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(refusal('')).toMatchObject({ status: 400, code: 'validation_failed' });
      try {
        service.assertAcceptable('short', 'new_password');
      } catch (e) {
        expect((e as AppException).errors).toEqual([{ field: 'new_password', message: expect.any(String) }]);
      }
    });

    it('counts code points, not UTF-16 units (emoji are two units each)', () => {
      expect(refusal('😀🦊🐙🌵🚀🎲🧩🪐')).toBeUndefined(); // 8 code points, 16 units
      expect(refusal('😀🦊🐙🌵🚀🎲🧩')).toMatchObject({ code: 'validation_failed' }); // 7 code points, 14 units
      expect(refusal('😀'.repeat(128))).toBeUndefined(); // 256 units
      expect(refusal('😀'.repeat(129))).toMatchObject({ code: 'validation_failed' });
    });

    it('counts after NFKC: ligatures expand, conjoining jamo compose', () => {
      expect(refusal('ﬃﬃﬃ')).toBeUndefined(); // 3 code points, 9 after NFKC
      expect(refusal('\u1100\u1161'.repeat(65))).toBeUndefined(); // 130 code points, 65 syllables after NFKC
      expect(refusal('\u1100\u1161'.repeat(7))).toMatchObject({ code: 'validation_failed' }); // 14 -> 7
    });

    it('refuses common passwords case-insensitively, after NFKC: 400 password_too_weak', () => {
      for (const pw of ['password123', 'PASSWORD123', 'PassWord123', 'ｐａｓｓｗｏｒｄ１２３', '12345678', 'qwertyuiop']) {
        expect(refusal(pw)).toEqual({
          status: 400,
          code: 'password_too_weak',
          errors: [{ field: 'password', message: expect.any(String) }],
        });
      }
      expect(refusal('violet-otter-harbor-42')).toBeUndefined();
    });

    it('does not trim or fold', () => {
      expect(service.assertAcceptable(' kq7#vz2m ')).toBe(' kq7#vz2m ');
      expect(service.assertAcceptable('KQ7#VZ2M')).toBe('KQ7#VZ2M');
    });
  });

  it('ships a list of at least 10,000 common passwords', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000);
    expect(isCommonPassword('Password123')).toBe(true);
  });

  it('normalizePassword is NFKC', () => {
    expect(normalizePassword('Ａ')).toBe('A');
    expect(normalizePassword('e\u0301')).toBe('\u00e9');
  });

  describe('hash and verify (argon2id)', () => {
    beforeAll(async () => {
      await service.onModuleInit();
    });

    it('hashes with argon2id and verifies the NFKC-equal password only', async () => {
      const hash = await service.hash('ｚｅｂｒａ－ｃｏｍｅｔ－７７');
      expect(hash).toMatch(/^\$argon2id\$/);
      expect(await service.verify(hash, 'zebra-comet-77')).toBe(true);
      expect(await service.verify(hash, 'ｚｅｂｒａ－ｃｏｍｅｔ－７７')).toBe(true);
      expect(await service.verify(hash, 'zebra-comet-77 ')).toBe(false);
      expect(await service.verify(hash, 'Zebra-comet-77')).toBe(false);
    });

    it('answers false (not an error) for no hash or a broken one', async () => {
      expect(await service.verify(null, 'anything-at-all')).toBe(false);
      expect(await service.verify(undefined, 'anything-at-all')).toBe(false);
      expect(await service.verify('not-a-hash', 'anything-at-all')).toBe(false);
    });
  });
});
