import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException, FieldError } from './app.exception';
import { ERROR_TITLES, ErrorCode } from './error-codes';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
}

const DEFAULT_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.TokenInvalid,
  403: ErrorCode.PermissionDenied,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

/** Maps any thrown value (Nest, Fastify, ours) to a problem body; the status of unknown errors is 500. */
export function toProblem(error: unknown, requestId: string): { body: ProblemBody; headers: Record<string, string> } {
  let status = 500;
  let code: string = ErrorCode.InternalError;
  let detail = 'An unexpected error occurred. Quote the request_id when reporting it.';
  let errors: FieldError[] | undefined;
  let headers: Record<string, string> = {};

  if (error instanceof AppException) {
    status = error.getStatus();
    code = error.code;
    detail = error.message;
    errors = error.errors;
    headers = error.headers ?? {};
  } else if (error instanceof HttpException) {
    status = error.getStatus();
    code = DEFAULT_CODES[status] ?? (status >= 500 ? ErrorCode.InternalError : ErrorCode.ValidationFailed);
    detail = humanDetail(status);
    const causeCode = (error.cause as { code?: string } | undefined)?.code ?? '';
    if (status === 400 && (/JSON/.test(error.message) || causeCode.startsWith('FST_ERR_CTP'))) {
      code = ErrorCode.MalformedBody;
      detail = 'The request body is not valid JSON.';
    } else if (status === 413) detail = 'The request body is larger than 65536 bytes.';
    else if (status === 415) detail = 'Request bodies must be application/json.';
    else if (status === 404) detail = 'No such route.';
    else if (status === 400) detail = 'The request is not valid.';
  } else if (isFastifyError(error)) {
    status = error.statusCode!;
    const fc = error.code ?? '';
    if (status === 413 || fc === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      code = ErrorCode.PayloadTooLarge;
      detail = 'The request body is larger than 65536 bytes.';
    } else if (status === 415 || fc === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      code = ErrorCode.UnsupportedMediaType;
      detail = 'Request bodies must be application/json.';
    } else if (status === 400) {
      code = ErrorCode.MalformedBody;
      detail = 'The request body is not valid JSON.';
    } else if (status < 500) {
      code = DEFAULT_CODES[status] ?? ErrorCode.ValidationFailed;
      detail = humanDetail(status);
    }
  }
  const title = ERROR_TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
  const body: ProblemBody = {
    type: `https://saasready.dev/problems/${code.replace(/_/g, '-')}`,
    title,
    status,
    detail,
    code,
    request_id: requestId,
  };
  if (errors) body.errors = errors;
  return { body, headers };
}

function humanDetail(status: number): string {
  return ERROR_TITLES[status] ?? 'The request failed.';
}

function isFastifyError(e: unknown): e is { statusCode?: number; code?: string } {
  return typeof e === 'object' && e !== null && typeof (e as { statusCode?: unknown }).statusCode === 'number';
}

/** The global filter: every error leaves as application/problem+json; 500s are logged with the request id. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    sendProblem(request, reply, exception, this.logger);
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, exception: unknown, logger: Pick<Logger, 'error'>): void {
  const requestId = String(request?.id ?? '');
  const { body, headers } = toProblem(exception, requestId);
  if (body.status >= 500) {
    logger.error({ err: exception, request_id: requestId, msg: 'unhandled error' });
  }
  if (reply.sent) return;
  reply.status(body.status).headers(headers).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(body));
}
