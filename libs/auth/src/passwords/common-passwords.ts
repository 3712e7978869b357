import { dictionary } from '@zxcvbn-ts/language-common';

let list: Set<string> | undefined;

/**
 * The shipped list: zxcvbn-ts's common-password dictionary (about 49,000 entries, 17,950 of them 8
 * characters or longer), matched case-insensitively.
 */
export function isCommonPassword(password: string): boolean {
  list ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return list.has(password.toLowerCase());
}

export function commonPasswordCount(): number {
  list ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return list.size;
}
