/**
 * The grant rules of API.md, in one place. Every route that grants, manages or edits roles goes through
 * them (members, custom roles, and invitations when they arrive).
 */
import { AppException } from '@saasready/core';
import { BuiltInRole } from './permissions';

/** Nobody grants what they do not hold: a role may be given only if its permissions are a subset of the actor's. */
export function canGrant(actor: ReadonlySet<string>, rolePermissions: Iterable<string>): boolean {
  for (const p of rolePermissions) if (!actor.has(p)) return false;
  return true;
}

/** Nobody manages a member whose role holds permissions the actor lacks (an Admin cannot touch an Owner). */
export function canManage(actor: ReadonlySet<string>, targetPermissions: Iterable<string>): boolean {
  return canGrant(actor, targetPermissions);
}

/**
 * Editing or deleting a custom role changes what its holders may do: the actor must hold every permission
 * the role has before and after the change (an Admin cannot edit a custom role that holds org.delete).
 */
export function canEditRole(actor: ReadonlySet<string>, before: Iterable<string>, after: Iterable<string> = []): boolean {
  return canGrant(actor, before) && canGrant(actor, after);
}

/**
 * An organization keeps at least one Owner: true when moving the member holding `fromRoleId` to
 * `toRoleId` (null: removal or leaving) would leave it with none. `ownerCount` must be read under the
 * org row lock so concurrent changes cannot both pass.
 */
export function removesLastOwner(input: { ownerCount: number; fromRoleId: string; toRoleId: string | null }): boolean {
  return input.fromRoleId === BuiltInRole.Owner.id && input.toRoleId !== BuiltInRole.Owner.id && input.ownerCount <= 1;
}

export function assertCanGrant(actor: ReadonlySet<string>, rolePermissions: Iterable<string>): void {
  if (!canGrant(actor, rolePermissions)) {
    throw AppException.forbidden('You cannot grant a role that holds permissions you do not have.');
  }
}

export function assertCanManage(actor: ReadonlySet<string>, targetPermissions: Iterable<string>): void {
  if (!canManage(actor, targetPermissions)) {
    throw AppException.forbidden('You cannot manage a member whose role holds permissions you do not have.');
  }
}

export function assertCanEditRole(actor: ReadonlySet<string>, before: Iterable<string>, after: Iterable<string> = []): void {
  if (!canEditRole(actor, before, after)) {
    throw AppException.forbidden('You cannot change a role that holds, or would hold, permissions you do not have.');
  }
}
