import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

/** The error codes this module answers with (the service's codes, API.md "Error codes"). */
export const SaaSReadyErrorCode = {
  TokenInvalid: 'token_invalid',
  TokenExpired: 'token_expired',
  SessionRevoked: 'session_revoked',
  PermissionDenied: 'permission_denied',
  ServiceUnavailable: 'service_unavailable',
  InternalError: 'internal_error',
} as const;
export type SaaSReadyErrorCode = (typeof SaaSReadyErrorCode)[keyof typeof SaaSReadyErrorCode];

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An RFC 9457 problem, the shape of the service's own errors (`request_id` is added when it is sent). */
export interface SaaSReadyProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id?: string;
}

/**
 * What the guard throws (and what a host app may throw for its own errors, to answer in the same shape): 401 (no, invalid or expired token; a revoked session on `fresh` routes), 403
 * (permission), 503 (the service could not be asked). `getResponse()` is the problem body, so Nest's
 * default filter already sends it as JSON; SaaSReadyProblemFilter sends it as application/problem+json
 * with a request id. A host with its own error format catches this class and reads `code` / `problem`.
 */
export class SaaSReadyException extends HttpException {
  readonly problem: SaaSReadyProblem;

  constructor(
    status: number,
    readonly code: SaaSReadyErrorCode | string,
    detail: string,
  ) {
    const problem: SaaSReadyProblem = {
      type: `https://saasready.dev/problems/${code.replace(/_/g, '-')}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      code,
    };
    super(problem, status);
    this.problem = problem;
  }

  static unauthorized(code: SaaSReadyErrorCode | string = SaaSReadyErrorCode.TokenInvalid, detail = 'The access token is not valid.') {
    return new SaaSReadyException(401, code, detail);
  }

  static forbidden(detail = 'You do not have the permission this action needs.') {
    return new SaaSReadyException(403, SaaSReadyErrorCode.PermissionDenied, detail);
  }

  static unavailable(detail = 'The authorization service could not be reached. Try again shortly.') {
    return new SaaSReadyException(503, SaaSReadyErrorCode.ServiceUnavailable, detail);
  }
}

interface AnyRequest {
  id?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}
interface AnyReply {
  status(code: number): AnyReply;
  header(name: string, value: string): AnyReply;
  send(body: string): unknown;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** The request id of a response: Fastify's `request.id`, else a well-formed `X-Request-Id`, else a new one. */
export function requestIdOf(req: AnyRequest | undefined): string {
  const id = req?.id;
  if ((typeof id === 'string' && id.length > 0) || typeof id === 'number') return String(id);
  const given = req?.headers?.['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
}

/** Writes SaaSReadyException as application/problem+json (Fastify or Express). Registered by default. */
@Catch(SaaSReadyException)
export class SaaSReadyProblemFilter implements ExceptionFilter {
  catch(exception: SaaSReadyException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const reply = http.getResponse<AnyReply>();
    const body: SaaSReadyProblem = { ...exception.problem, request_id: requestIdOf(http.getRequest<AnyRequest>()) };
    reply.status(body.status).header('content-type', 'application/problem+json; charset=utf-8');
    if (body.status === 401) reply.header('www-authenticate', 'Bearer');
    reply.send(JSON.stringify(body));
  }
}
