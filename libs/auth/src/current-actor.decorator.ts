import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Actor } from '@saasready/core';

/** The authenticated caller (set by AccessGuard). */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  return ctx.switchToHttp().getRequest<{ user: Actor }>().user;
});
