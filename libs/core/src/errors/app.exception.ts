import { HttpException } from '@nestjs/common';
import { ErrorCode } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one exception type of the domain: an HTTP status, a stable `code` and a human `detail`.
 * The problem filter turns it into application/problem+json.
 */
export class AppException extends HttpException {
  constructor(
    status: number,
    readonly code: ErrorCode,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail, status);
  }

  static validation(errors: FieldError[], detail = 'The request body or parameters are invalid.'): AppException {
    return new AppException(400, ErrorCode.ValidationFailed, detail, errors);
  }
  static notFound(code: ErrorCode = ErrorCode.NotFound, detail = 'Not found.'): AppException {
    return new AppException(404, code, detail);
  }
  static forbidden(detail = 'You do not have the permission this action needs.'): AppException {
    return new AppException(403, ErrorCode.PermissionDenied, detail);
  }
  static conflict(code: ErrorCode, detail: string): AppException {
    return new AppException(409, code, detail);
  }
  static unauthorized(code: ErrorCode, detail: string): AppException {
    return new AppException(401, code, detail);
  }
}
