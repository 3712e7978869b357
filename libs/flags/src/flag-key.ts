import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '@saasready/core';

/** Flag keys (API.md "Feature flags"): lower case, digits, `_`, `.`, `-`; 1 to 64 characters. */
export const FLAG_KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function isFlagKey(value: unknown): value is string {
  return typeof value === 'string' && FLAG_KEY_PATTERN.test(value);
}

/** The `{flag_key}` path parameter: a key not matching the pattern is 400 validation_failed (never folded to lower case). */
@Injectable()
export class FlagKeyPipe implements PipeTransform<unknown, string> {
  constructor(private readonly field = 'flag_key') {}

  transform(value: unknown): string {
    if (!isFlagKey(value)) {
      throw AppException.validation([{ field: this.field, message: `must match ${FLAG_KEY_PATTERN.source}` }]);
    }
    return value;
  }
}

export const flagKeyParam = (field = 'flag_key'): FlagKeyPipe => new FlagKeyPipe(field);
