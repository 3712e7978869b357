import { Initial1764403200000 } from './1764403200000-initial';

/** Every migration, in order. A new one is added here (explicit list, no globs). */
export const MIGRATIONS = [Initial1764403200000];
