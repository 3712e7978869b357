import { CallHandler, ExecutionContext, INestApplication, NestInterceptor, RequestMethod, SetMetadata } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { defer, lastValueFrom, Observable } from 'rxjs';
import { forEachRoute } from '../http/routes';
import { RequestContext } from './request-context';

export const READ_ONLY_ROUTE = 'saasready:read-only-route';

/**
 * Marks a non-GET handler that writes nothing and reads the request's context only through parameter
 * decorators (e.g. POST /authz/check): it runs without the ambient context, like GET handlers.
 */
export const ReadOnlyRoute = (): MethodDecorator => SetMetadata(READ_ONLY_ROUTE, true);

/**
 * Runs the handler (and the interceptors after this one) with the request's context ambient
 * (RequestContext.run): for as long as the handler's promise is pending, whether or not the client waits.
 */
export class AmbientContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = context.getType() === 'http' ? RequestContext.of(context.switchToHttp().getRequest<object>()) : undefined;
    if (!ctx) return next.handle();
    // next.handle() binds the rest of the chain to the async context it is called in: the run's.
    return defer(() => RequestContext.run(ctx, () => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}

const AMBIENT = new AmbientContextInterceptor();

/**
 * Before app.init(): puts AmbientContextInterceptor first on every route that may write, i.e. all but
 * GET/HEAD handlers and @ReadOnlyRoute() ones. Those get no interceptor from here, so the hot read routes
 * pay neither for an interceptor nor for AsyncLocalStorage (see RequestContext). Returns how many routes
 * got it.
 */
export function applyAmbientContext(app: INestApplication): number {
  let count = 0;
  forEachRoute(app, (handler) => {
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
    if (method === RequestMethod.GET || method === RequestMethod.HEAD || Reflect.getMetadata(READ_ONLY_ROUTE, handler)) return;
    const existing = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
    if (existing.includes(AMBIENT)) return;
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [AMBIENT, ...existing], handler);
    count++;
  });
  return count;
}
