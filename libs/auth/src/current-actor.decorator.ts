/** Moved to @saasready/core (handlers in libs below auth need it too); re-exported here for existing imports. */
export { CurrentActor } from '@saasready/core';
