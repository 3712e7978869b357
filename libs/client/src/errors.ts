import type { components } from './generated/openapi';

/** An RFC 9457 problem, the body of every error of the API. */
export type Problem = components['schemas']['Problem'];
/** One field problem of a 400 `validation_failed`. */
export type FieldError = components['schemas']['FieldError'];

/**
 * An error answer of the API. Branch on `code` (stable, snake_case: `slug_taken`, `token_expired`, ...;
 * the table is in the API's description) or on the subclass; `detail` is for people.
 */
export class SaaSReadyError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The problem's stable machine code. */
  readonly code: string;
  /** What went wrong, for people. */
  readonly detail: string;
  /** Field problems (400 `validation_failed`); empty otherwise. */
  readonly errors: FieldError[];
  /** The request id (X-Request-Id): quote it when reporting a problem; the server log holds it. */
  readonly requestId: string | null;
  /** The whole problem body, when the answer was one. */
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallbackDetail?: string) {
    const code = problem?.code ?? `http_${status}`;
    const detail = problem?.detail ?? fallbackDetail ?? `HTTP ${status}`;
    super(`${code}: ${detail}`);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = problem?.errors ?? [];
    this.requestId = problem?.request_id ?? null;
    this.problem = problem;
  }
}

/** 400: the request is invalid (`validation_failed` with `errors`, `password_too_weak`, `invalid_role`, ...). */
export class ValidationError extends SaaSReadyError {}
/** 401: not signed in, or the credentials, token or code are not accepted. */
export class AuthenticationError extends SaaSReadyError {}
/** 401 `two_factor_required`: log in again with `two_factor_code`. */
export class TwoFactorRequiredError extends AuthenticationError {}
/** 403: `permission_denied`, `reauthentication_failed`, `invitation_email_mismatch`. */
export class PermissionDeniedError extends SaaSReadyError {}
/** 404: `org_not_found` (also for organizations you are not a member of), `not_found`, `invitation_not_found`. */
export class NotFoundError extends SaaSReadyError {}
/** 409: `slug_taken`, `email_taken`, `last_owner`, `role_in_use`, ... */
export class ConflictError extends SaaSReadyError {}
/** 410: `invitation_expired`, `invitation_not_pending`. */
export class GoneError extends SaaSReadyError {}
/** 429: `rate_limited` or `account_locked`; retry after `retryAfter` seconds. */
export class RateLimitError extends SaaSReadyError {
  /** Seconds to wait (the Retry-After header), or null when the answer had none. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: number | null) {
    super(status, problem);
    this.retryAfter = retryAfter;
  }
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string' && typeof (body as Problem).status === 'number'
  );
}

/** The typed error of an error answer (`body`: the parsed body, or its text). */
export function errorFromResponse(response: Response, body: unknown): SaaSReadyError {
  const problem = isProblem(body) ? body : null;
  const text = typeof body === 'string' && body ? body.slice(0, 200) : undefined;
  const status = response.status;
  switch (status) {
    case 400:
      return new ValidationError(status, problem, text);
    case 401:
      return problem?.code === 'two_factor_required'
        ? new TwoFactorRequiredError(status, problem, text)
        : new AuthenticationError(status, problem, text);
    case 403:
      return new PermissionDeniedError(status, problem, text);
    case 404:
      return new NotFoundError(status, problem, text);
    case 409:
      return new ConflictError(status, problem, text);
    case 410:
      return new GoneError(status, problem, text);
    case 429: {
      const header = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
      return new RateLimitError(status, problem, Number.isFinite(header) ? header : null);
    }
    default:
      return new SaaSReadyError(status, problem, text);
  }
}
