/**
 * The grant rules of API.md, in one place. Every route that grants or manages goes through them.
 */

/** Nobody grants what they do not hold: a role may be given only if its permissions are a subset of the actor's. */
export function canGrant(actor: ReadonlySet<string>, rolePermissions: Iterable<string>): boolean {
  for (const p of rolePermissions) if (!actor.has(p)) return false;
  return true;
}

/** Nobody manages a member whose role holds permissions the actor lacks (an Admin cannot touch an Owner). */
export function canManage(actor: ReadonlySet<string>, targetPermissions: Iterable<string>): boolean {
  return canGrant(actor, targetPermissions);
}
