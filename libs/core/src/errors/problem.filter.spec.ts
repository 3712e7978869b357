import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode } from './error-codes';
import { sendProblem, toProblem } from './problem.filter';

describe('toProblem', () => {
  it('an unknown error is a 500 with no stack, message or cause: only the request id', () => {
    const error = new Error('relation "users" does not exist at /srv/app/secret.ts:12');
    const { body, headers } = toProblem(error, 'req-1');
    expect(body).toEqual({
      type: 'https://saasready.dev/problems/internal-error',
      title: 'Internal Server Error',
      status: 500,
      detail: expect.any(String),
      code: 'internal_error',
      request_id: 'req-1',
    });
    expect(JSON.stringify(body)).not.toMatch(/users|secret|stack|\.ts/);
    expect(headers).toEqual({});
    expect(toProblem('a string', 'r').body.status).toBe(500);
    expect(toProblem(undefined, 'r').body.status).toBe(500);
    expect(toProblem(null, 'r').body.status).toBe(500);
  });

  it('an AppException keeps its status, code, detail, field errors and headers', () => {
    const e = new AppException(429, ErrorCode.AccountLocked, 'Locked.', undefined, { 'Retry-After': '60' });
    expect(toProblem(e, 'r')).toEqual({
      body: {
        type: 'https://saasready.dev/problems/account-locked',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Locked.',
        code: 'account_locked',
        request_id: 'r',
      },
      headers: { 'Retry-After': '60' },
    });
    const v = toProblem(AppException.validation([{ field: 'email', message: 'must be an email address' }]), 'r').body;
    expect(v).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ field: 'email', message: 'must be an email address' }] });
    expect(toProblem(AppException.unauthorized(ErrorCode.TokenExpired, 'x'), 'r').body).toMatchObject({
      status: 401,
      code: 'token_expired',
    });
  });

  it("maps Nest's HTTP exceptions to the contract's codes", () => {
    expect(toProblem(new NotFoundException('Cannot GET /x'), 'r').body).toMatchObject({
      status: 404,
      code: 'not_found',
      detail: 'No such route.',
    });
    expect(toProblem(new PayloadTooLargeException(), 'r').body).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(toProblem(new BadRequestException('Unexpected token } in JSON at position 3'), 'r').body).toMatchObject({
      status: 400,
      code: 'malformed_body',
    });
    const other = toProblem(new BadRequestException('something internal'), 'r').body;
    expect(other).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(other.detail).not.toContain('internal');
  });

  it("maps Fastify's body errors (413, 415, bad JSON)", () => {
    const fst = (statusCode: number, code: string) => Object.assign(new Error('raw fastify message'), { statusCode, code });
    expect(toProblem(fst(413, 'FST_ERR_CTP_BODY_TOO_LARGE'), 'r').body).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(toProblem(fst(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'), 'r').body).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(toProblem(fst(400, 'FST_ERR_CTP_INVALID_JSON_BODY'), 'r').body).toMatchObject({ status: 400, code: 'malformed_body' });
    expect(toProblem(fst(400, 'FST_ERR_CTP_EMPTY_JSON_BODY'), 'r').body).toMatchObject({ status: 400, code: 'malformed_body' });
    const s500 = toProblem(fst(500, 'SOMETHING'), 'r').body;
    expect(s500).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(s500)).not.toContain('raw fastify message');
  });
});

describe('sendProblem', () => {
  function fakeReply() {
    const sent: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
    const reply = {
      sent: false,
      status(s: number) {
        sent.status = s;
        return reply;
      },
      headers(h: Record<string, string>) {
        Object.assign(sent.headers, h);
        return reply;
      },
      header(k: string, v: string) {
        sent.headers[k.toLowerCase()] = v;
        return reply;
      },
      send(b: string) {
        sent.body = b;
        return reply;
      },
    };
    return { reply, sent };
  }

  it('writes application/problem+json and logs a 500 with its request id (the log, not the client, gets the error)', () => {
    const { reply, sent } = fakeReply();
    const logged: unknown[] = [];
    const error = new Error('boom');
    sendProblem({ id: 'req-9' } as never, reply as never, error, { error: (m: unknown) => logged.push(m) });
    expect(sent.status).toBe(500);
    expect(sent.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(sent.body!);
    expect(body.request_id).toBe('req-9');
    expect(sent.body).not.toContain('boom');
    expect(sent.body).not.toContain('at ');
    expect(logged).toEqual([expect.objectContaining({ err: error, request_id: 'req-9' })]);
  });

  it('does not log 4xx as errors, and sets the exception headers', () => {
    const { reply, sent } = fakeReply();
    const logged: unknown[] = [];
    sendProblem(
      { id: 'r' } as never,
      reply as never,
      new AppException(429, ErrorCode.RateLimited, 'slow down', undefined, { 'Retry-After': '5' }),
      {
        error: (m: unknown) => logged.push(m),
      },
    );
    expect(sent.status).toBe(429);
    expect(sent.headers['Retry-After']).toBe('5');
    expect(logged).toEqual([]);
  });
});
