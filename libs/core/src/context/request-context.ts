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
}

const storage = new AsyncLocalStorage<RequestContextData>();

/** Request-scoped data (request id, client, actor, org, transaction) in AsyncLocalStorage. */
export const RequestContext = {
  run<T>(data: RequestContextData, fn: () => T): T {
    return storage.run(data, fn);
  },
  /** Enters a context for the rest of the current synchronous execution and its async continuations. */
  enter(data: RequestContextData): void {
    storage.enterWith(data);
  },
  current(): RequestContextData | undefined {
    return storage.getStore();
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
};
