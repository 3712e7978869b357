import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';

/** The authenticated caller of a request, set by the auth guard. */
export interface Actor {
  userId: string;
  email: string;
  sessionId: string;
  /** The session's current organization (may be null). */
  currentOrgId: string | null;
}

/** The organization of the request path and the caller's role there, set by the permission guard. */
export interface OrgScope {
  orgId: string;
  roleId: string;
  roleName: string;
  permissions: ReadonlySet<string>;
}

export interface RequestContextData {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  actor?: Actor;
  org?: OrgScope;
  /** The open transaction's manager, when inside TransactionService.run. */
  manager?: EntityManager;
  /** Work to run once the ambient transaction has committed (cache invalidation, queue kicks). */
  afterCommit?: (() => Promise<void> | void)[];
  /** Statements to run in the ambient transaction just before its COMMIT (TransactionService.beforeCommit). */
  beforeCommit?: CommitStatement[];
}

/** A statement queued for the end of a transaction (TransactionService.beforeCommit). */
export interface CommitStatement {
  /**
   * A prepared statement's name (one per text; a changed text needs a new name): PostgreSQL parses and
   * plans it once per connection instead of on every call. In a transaction only.
   */
  name?: string;
  text: string;
  values: unknown[];
}

const storage = new AsyncLocalStorage<RequestContextData>();
const ON_REQUEST = Symbol('saasready.requestContext');

/** Runs in flight: while none is, the storage is disabled and Node runs no async hook per promise. */
let active = 0;

function release(): void {
  if (--active === 0) storage.disable();
}

/**
 * Request-scoped data: request id, client, actor, org, transaction.
 *
 * Every request carries its context on the request object (`attach` in the onRequest hook, `of(req)`):
 * guards and parameter decorators read it there. The context is also *ambient* (AsyncLocalStorage,
 * `current()`) inside `run`: the API runs every handler but those of GET/HEAD requests and
 * `@ReadOnlyRoute()` in it (AmbientContextInterceptor), and TransactionService.run always does, so
 * services, the audit writer and the logger find it without it being passed down.
 *
 * Why not ambient for every request: on Node 20 an enabled AsyncLocalStorage runs an async hook on every
 * promise of the process, which cost the hot read routes about a fifth of their throughput. So the storage
 * is enabled only while a `run` is in flight (counted; disabled again when the last one settles).
 */
export const RequestContext = {
  /**
   * Runs `fn` with `data` as the ambient context. If `fn` returns a promise, the context stays ambient for
   * its continuations, and the storage stays enabled until it settles.
   */
  run<T>(data: RequestContextData, fn: () => T): T {
    active++;
    let result: T;
    try {
      result = storage.run(data, fn);
    } catch (e) {
      release();
      throw e;
    }
    // Any thenable (not only a native Promise) keeps the storage enabled until it settles.
    const pending = result as { then?: unknown } | null | undefined;
    if (pending !== null && typeof pending === 'object' && typeof pending.then === 'function') {
      Promise.resolve(result).then(release, release);
    } else {
      release();
    }
    return result;
  },
  /** The ambient context (inside `run`), if any. */
  current(): RequestContextData | undefined {
    return storage.getStore();
  },
  /** Puts `data` on a request (the onRequest hook does it for every request). */
  attach(req: object, data: RequestContextData): void {
    (req as { [ON_REQUEST]?: RequestContextData })[ON_REQUEST] = data;
  },
  /** The context of a request (guards, parameter decorators, filters). */
  of(req: object): RequestContextData | undefined {
    return (req as { [ON_REQUEST]?: RequestContextData })[ON_REQUEST];
  },
  requestId(): string | undefined {
    return storage.getStore()?.requestId;
  },
  actor(): Actor | undefined {
    return storage.getStore()?.actor;
  },
  org(): OrgScope | undefined {
    return storage.getStore()?.org;
  },
  /** For tests: runs in flight. */
  activeRuns(): number {
    return active;
  },
};
