import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import * as QRCode from 'qrcode';
import * as speakeasy from 'speakeasy';
import { APP_CONFIG, AppConfig, Clock, Encryptor, newId, TransactionService, returnedRows } from '@saasready/core';

const STEP_SECONDS = 30;
const BACKUP_CODE_COUNT = 10;
const BACKUP_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i

export interface TwoFactorSetup {
  secret: string;
  otpauth_url: string;
  qr_code_url: string;
  backup_codes: string[];
}

interface SecretRow {
  two_factor_secret: string | null;
  two_factor_pending_secret: string | null;
  two_factor_last_step: string | null;
}

/**
 * TOTP (RFC 6238, 30 s steps, ±1 step) with speakeasy. Secrets (160 bits) are sealed with
 * ENCRYPTION_KEY (AES-256-GCM, key id in the envelope). A code is accepted once: a code of a step at
 * or before the last accepted step is refused, and the step is claimed with a conditional UPDATE so
 * two concurrent uses of one code cannot both pass. Backup codes are HMAC-SHA256(key, code), single use.
 */
@Injectable()
export class TwoFactorService {
  private readonly encryptor: Encryptor;
  private readonly pepper: Buffer;

  constructor(
    private readonly tx: TransactionService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.encryptor = new Encryptor(config.encryptionKey);
    this.pepper = createHmac('sha256', config.encryptionKey).update('saasready:backup-codes').digest();
  }

  /** A new pending secret and backup codes (inactive until verify); replaces a pending set-up. */
  async setup(userId: string, accountName: string): Promise<TwoFactorSetup> {
    const generated = speakeasy.generateSecret({ length: 20 });
    const secret = generated.base32;
    const otpauthUrl = speakeasy.otpauthURL({
      secret,
      encoding: 'base32',
      label: accountName,
      issuer: 'SaaSReady',
      algorithm: 'sha1',
      digits: 6,
      period: STEP_SECONDS,
    });
    const qr = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', type: 'image/png' });
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => backupCode());
    await this.tx.run(async (m) => {
      await m.query(`UPDATE users SET two_factor_pending_secret = $2 WHERE id = $1`, [
        userId,
        this.encryptor.encrypt(secret, `totp:${userId}`),
      ]);
      await m.query(`DELETE FROM two_factor_backup_codes WHERE user_id = $1 AND active = false`, [userId]);
      await this.insertCodes(userId, codes, false);
    });
    return { secret, otpauth_url: otpauthUrl, qr_code_url: qr, backup_codes: codes };
  }

  /** Turns 2FA on with a code of the pending secret. False when the code is wrong (or no set-up is pending). */
  async enable(userId: string, code: string): Promise<boolean> {
    return this.tx.run(async (m) => {
      const row = await this.secrets(userId, true);
      if (!row?.two_factor_pending_secret) return false;
      const secret = this.encryptor.decrypt(row.two_factor_pending_secret, `totp:${userId}`);
      const step = this.matchingStep(secret, code);
      if (step === null) return false;
      await m.query(
        `UPDATE users SET two_factor_secret = two_factor_pending_secret, two_factor_pending_secret = NULL, two_factor_last_step = $2,
           two_factor_enabled = true, updated_at = $3 WHERE id = $1`,
        [userId, step, this.clock.now()],
      );
      await m.query(`DELETE FROM two_factor_backup_codes WHERE user_id = $1 AND active = true`, [userId]);
      await m.query(`UPDATE two_factor_backup_codes SET active = true WHERE user_id = $1`, [userId]);
      return true;
    });
  }

  async disable(userId: string): Promise<void> {
    await this.tx.run(async (m) => {
      await m.query(
        `UPDATE users SET two_factor_enabled = false, two_factor_secret = NULL, two_factor_pending_secret = NULL, two_factor_last_step = NULL,
           updated_at = $2 WHERE id = $1`,
        [userId, this.clock.now()],
      );
      await m.query(`DELETE FROM two_factor_backup_codes WHERE user_id = $1`, [userId]);
    });
  }

  /** A new set of active backup codes; the old ones are void. */
  async regenerateBackupCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => backupCode());
    await this.tx.run(async (m) => {
      await m.query(`DELETE FROM two_factor_backup_codes WHERE user_id = $1 AND active = true`, [userId]);
      await this.insertCodes(userId, codes, true);
    });
    return codes;
  }

  /**
   * Checks a second factor of an enabled user: a TOTP code (claimed once) or, if `allowBackup`, an
   * unused backup code (used up). Returns which kind matched, or null.
   */
  async verify(userId: string, code: string, allowBackup = true): Promise<'totp' | 'backup' | null> {
    const normalized = code.trim().toLowerCase().replace(/[\s-]/g, '');
    if (/^\d{6}$/.test(normalized)) {
      const row = await this.secrets(userId, false);
      if (!row?.two_factor_secret) return null;
      const step = this.matchingStep(this.encryptor.decrypt(row.two_factor_secret, `totp:${userId}`), normalized);
      if (step === null) return null;
      const claimed: unknown[] = await this.tx
        .manager()
        .query(
          `UPDATE users SET two_factor_last_step = $2 WHERE id = $1 AND two_factor_enabled AND (two_factor_last_step IS NULL OR two_factor_last_step < $2) RETURNING id`,
          [userId, step],
        );
      return returnedRows<unknown>(claimed).length > 0 ? 'totp' : null;
    }
    if (!allowBackup || normalized.length !== 10) return null;
    const used: unknown[] = await this.tx.manager().query(
      `UPDATE two_factor_backup_codes SET used_at = $3 WHERE id = (
           SELECT id FROM two_factor_backup_codes WHERE user_id = $1 AND code_hash = $2 AND active AND used_at IS NULL LIMIT 1 FOR UPDATE
         ) AND used_at IS NULL RETURNING id`,
      [userId, this.hash(normalized), this.clock.now()],
    );
    return returnedRows<unknown>(used).length > 0 ? 'backup' : null;
  }

  /** The step of the code within ±1 step of now, or null. */
  private matchingStep(secret: string, code: string): number | null {
    if (!/^\d{6}$/.test(code.trim())) return null;
    const time = Math.floor(this.clock.nowMs() / 1000);
    const delta = speakeasy.totp.verifyDelta({ secret, encoding: 'base32', token: code.trim(), window: 1, time, step: STEP_SECONDS });
    if (!delta) return null;
    return Math.floor(time / STEP_SECONDS) + delta.delta;
  }

  private async secrets(userId: string, lock: boolean): Promise<SecretRow | undefined> {
    const rows: unknown[] = await this.tx
      .manager()
      .query(
        `SELECT two_factor_secret, two_factor_pending_secret, two_factor_last_step FROM users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
        [userId],
      );
    return returnedRows<unknown>(rows)[0] as SecretRow | undefined;
  }

  private async insertCodes(userId: string, codes: string[], active: boolean): Promise<void> {
    const now = this.clock.now();
    for (const code of codes) {
      await this.tx
        .manager()
        .query(
          `INSERT INTO two_factor_backup_codes (id, user_id, code_hash, active, used_at, created_at) VALUES ($1, $2, $3, $4, NULL, $5)`,
          [newId(), userId, this.hash(code.replace('-', '')), active, now],
        );
    }
  }

  private hash(code: string): string {
    return createHmac('sha256', this.pepper).update(code).digest('hex');
  }

  /** A code of `secret` for the current step (tests and tools). */
  static codeFor(secret: string, timeMs: number): string {
    return speakeasy.totp({ secret, encoding: 'base32', time: Math.floor(timeMs / 1000), step: STEP_SECONDS });
  }
}

/** `abcde-fghjk`: 10 characters of a 31-letter alphabet (about 50 bits). */
function backupCode(): string {
  const bytes = randomBytes(10);
  let s = '';
  for (const b of bytes) s += BACKUP_ALPHABET[b % BACKUP_ALPHABET.length];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}
