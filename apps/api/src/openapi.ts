import type { OpenAPIObject, OperationObject, PathItemObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ERROR_TITLES, ErrorCode } from '@saasready/core';

/**
 * The finishing pass of the OpenAPI document (buildOpenApi): what holds for every route and so is said
 * once here rather than on each handler. Route-specific errors are documented on the handlers
 * (@ApiConflictResponse(...) etc., their codes in backquotes); this pass
 * - gives every error response the `application/problem+json` body (the Problem schema),
 * - documents the 401 of every signed-in route, the 400 of every route that takes input, the
 *   `Retry-After` header of 429s, and a `default` response for the errors any route can answer,
 * - marks public routes `security: []` and `x-permission: public`,
 * - and refuses (throws) an operation without an operationId or an `x-permission`.
 */

export const PROBLEM_SCHEMA = 'Problem';
const FIELD_ERROR_SCHEMA = 'FieldError';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The description the access decorators give a 401 (libs/core route-access). */
const GENERIC_401 = 'Missing, invalid or expired access token, or a revoked session.';
const AUTH_401 =
  'The access token is missing, malformed or not verifiable (`token_invalid`), past its expiry (`token_expired`: refresh ' +
  'it with POST /auth/refresh), or its session has ended (`session_revoked`).';
const INPUT_400 =
  'The path, query or body is invalid: `validation_failed`, with `errors` listing each field problem (unknown body ' +
  'fields are refused too); a body that is not valid JSON is `malformed_body`.';
const DEFAULT_ERROR =
  'Any other error, as application/problem+json: 413 `payload_too_large` (a body over 65,536 bytes), 415 ' +
  '`unsupported_media_type` (a body that is not application/json), 500 `internal_error` (only `request_id`, which the ' +
  'server log also holds), 503 `service_unavailable`.';
const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted: the work (e.g. an email) is queued',
  '204': 'Done (no body)',
};

const problemSchemas: Record<string, SchemaObject> = {
  [FIELD_ERROR_SCHEMA]: {
    type: 'object',
    description: 'One field problem of a 400.',
    required: ['field', 'message'],
    properties: {
      field: { type: 'string', description: 'The field, as named in the request (e.g. `email`, `checks[0].org_id`).' },
      message: { type: 'string', description: 'What is wrong with it, for people.' },
    },
  },
  [PROBLEM_SCHEMA]: {
    type: 'object',
    description:
      'An RFC 9457 problem (every error of the API). Branch on `code`, a stable snake_case machine code; `detail` is for ' +
      `people and may change. Codes: ${Object.values(ErrorCode)
        .map((c) => `\`${c}\``)
        .join(', ')}.`,
    required: ['type', 'title', 'status', 'detail', 'code', 'request_id'],
    properties: {
      type: {
        type: 'string',
        format: 'uri',
        description: 'A URI naming the problem type (one per code).',
        example: 'https://saasready.dev/problems/slug-taken',
      },
      title: { type: 'string', description: 'The HTTP status text.', example: ERROR_TITLES[409] },
      status: { type: 'integer', description: 'The HTTP status code.', example: 409 },
      detail: { type: 'string', description: 'What went wrong, for people.', example: 'This slug is already in use.' },
      code: { type: 'string', description: 'The stable machine code.', example: ErrorCode.SlugTaken },
      request_id: { type: 'string', description: 'The request id (also the X-Request-Id header); the server log holds it too.' },
      errors: {
        type: 'array',
        description: 'For `validation_failed`: each field problem.',
        items: { $ref: `#/components/schemas/${FIELD_ERROR_SCHEMA}` },
      },
    },
  },
};

const problemContent = () => ({ [PROBLEM_MEDIA_TYPE]: { schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA}` } } });

const isRef = (x: unknown): x is ReferenceObject => typeof x === 'object' && x !== null && '$ref' in x;

/** Finishes the document in place (see above) and returns it. */
export function finishOpenApi(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...problemSchemas } };
  for (const [path, item] of Object.entries(document.paths) as [string, PathItemObject][]) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) finishOperation(`${method.toUpperCase()} ${path}`, op);
    }
  }
  return document;
}

function finishOperation(name: string, op: OperationObject & { 'x-permission'?: unknown }): void {
  if (!op.operationId) throw new Error(`OpenAPI: ${name} has no operationId (@ApiOperation({ operationId }))`);
  // @Public() writes `security: [{}]`; an explicit empty list is the OpenAPI way to say "no auth".
  const publicRoute = !op.security || op.security.every((s) => Object.keys(s).length === 0);
  if (publicRoute) {
    op.security = [];
    op['x-permission'] ??= 'public';
  }
  if (typeof op['x-permission'] !== 'string' && !Array.isArray(op['x-permission'])) {
    throw new Error(`OpenAPI: ${name} (${op.operationId}) has no x-permission: declare its access (@Public, @Authenticated, ...)`);
  }

  const responses = op.responses;
  for (const [status, response] of Object.entries(responses)) {
    if (!response || isRef(response)) continue;
    if (!response.description && SUCCESS_DESCRIPTIONS[status]) response.description = SUCCESS_DESCRIPTIONS[status];
  }
  if (!publicRoute) {
    const r401 = responses['401'] as ResponseObject | undefined;
    if (!r401) responses['401'] = { description: AUTH_401 };
    else r401.description = r401.description.replace(GENERIC_401, AUTH_401) || AUTH_401;
  }
  const takesInput = !!op.requestBody || (op.parameters ?? []).length > 0;
  if (takesInput) {
    const r400 = responses['400'] as ResponseObject | undefined;
    responses['400'] = { description: r400?.description ? `${INPUT_400}\n\n${r400.description}` : INPUT_400 };
  }
  responses.default = { description: DEFAULT_ERROR };
  for (const [status, response] of Object.entries(responses)) {
    if (!response || isRef(response) || !(status === 'default' || Number(status) >= 400)) continue;
    response.content ??= problemContent();
    if (status === '429') {
      response.headers = {
        ...response.headers,
        'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
      };
    }
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}
