import { AppException } from '@saasready/core';
import { ALL_PERMISSIONS, BUILT_IN_ROLE_NAMES, isPermission, Permission } from './permissions';

export const ROLE_NAME_MAX = 64;
export const ROLE_DESCRIPTION_MAX = 500;

/** Permissions of a custom role: known ones only (else 400), without duplicates, in catalog order. */
export function normalizePermissions(input: readonly string[]): Permission[] {
  const unknown = input.filter((p) => !isPermission(p));
  if (unknown.length) {
    throw AppException.validation(unknown.map((p) => ({ field: 'permissions', message: `unknown permission "${p}"` })));
  }
  const wanted = new Set(input);
  return ALL_PERMISSIONS.filter((p) => wanted.has(p));
}

/** Permissions in catalog order (stable output for clients). */
export function sortPermissions(input: Iterable<string>): string[] {
  const wanted = new Set(input);
  return ALL_PERMISSIONS.filter((p) => wanted.has(p));
}

/** A custom role's name, trimmed. Built-in names are reserved, case-insensitively. */
export function normalizeRoleName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > ROLE_NAME_MAX) {
    throw AppException.validation([{ field: 'name', message: `must be 1 to ${ROLE_NAME_MAX} characters` }]);
  }
  return trimmed;
}

export function isBuiltInRoleName(name: string): boolean {
  return BUILT_IN_ROLE_NAMES.has(name.trim().toLowerCase());
}
