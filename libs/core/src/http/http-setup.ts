import { NestFastifyApplication, FastifyAdapter } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger as Pino } from 'pino';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/config';
import { RequestContext, RequestContextData } from '../context/request-context';
import { httpDuration } from '../metrics/metrics';

export const BODY_LIMIT = 65_536;
const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;
const USER_AGENT_MAX = 512;

/** The Fastify adapter with the contract's HTTP rules: body limit, trusted proxies, request ids. */
export function createFastifyAdapter(config: AppConfig, logger: Pino, logRequests = true): FastifyAdapter {
  const options: Record<string, unknown> = {
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy as boolean,
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: !logRequests, requestIdLogLabel: 'request_id' }),
    // A pino child logger per request costs measurable time on every request; without request logging
    // requests share the root logger (the ProblemFilter logs errors with the request's request_id).
    ...(logRequests ? {} : { childLoggerFactory: (root: Pino) => root }),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  };
  return new FastifyAdapter(options as ConstructorParameters<typeof FastifyAdapter>[0]) as FastifyAdapter;
}

/** Hooks that must run for every request, including ones that never reach a Nest handler. */
export function configureHttp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    httpDuration.observe(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // On the request, not ambient: AmbientContextInterceptor makes it ambient for the handlers that need it.
    RequestContext.attach(req, new HttpRequestContext(req));
    done();
  });

  // Only JSON bodies (Nest's own parsers are off: bodyParser false): anything else with a body is 415,
  // JSON parse errors 400 malformed_body; Fastify's errors reach the ProblemFilter through Nest.
  fastify.removeContentTypeParser('text/plain');
}

/**
 * The request's context. The client address (parsed from X-Forwarded-For behind trusted proxies) and
 * the cleaned user agent are worked out on first use: most requests (reads) never need them. A class
 * (accessors on the prototype), not an object literal with getters: no closures per request.
 */
class HttpRequestContext implements RequestContextData {
  readonly requestId: string;
  private cachedIp: string | null | undefined;
  private cachedUserAgent: string | null | undefined;
  actor?: RequestContextData['actor'];
  org?: RequestContextData['org'];

  constructor(private readonly req: FastifyRequest) {
    this.requestId = String(req.id);
  }

  get ip(): string | null {
    return this.cachedIp === undefined ? (this.cachedIp = this.req.ip ?? null) : this.cachedIp;
  }

  get userAgent(): string | null {
    return this.cachedUserAgent === undefined ? (this.cachedUserAgent = userAgentOf(this.req)) : this.cachedUserAgent;
  }
}

export function userAgentOf(req: FastifyRequest): string | null {
  const ua = req.headers['user-agent'];
  if (typeof ua !== 'string' || ua.length === 0) return null;
  // eslint-disable-next-line no-control-regex
  return ua.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, USER_AGENT_MAX);
}
