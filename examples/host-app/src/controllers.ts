import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Authenticated, CurrentUser, Public, RequirePermission, SaaSReadyException, type SaaSReadyUser } from '@saasready/nest';
import { type Plan, ProjectsService } from './projects.service';

const PLANS: readonly Plan[] = ['free', 'pro', 'enterprise'];

const badRequest = (detail: string) => new SaaSReadyException(400, 'validation_failed', detail);

@Controller()
export class HealthController {
  /** No token. */
  @Public()
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  /** Any signed-in user: who the token says they are. */
  @Authenticated()
  @Get('me')
  me(@CurrentUser() user: SaaSReadyUser) {
    return { user_id: user.userId, session_id: user.sessionId, org_id: user.orgId, role: user.role, permissions: user.permissions };
  }
}

/** The caller's current organization (the token's `org_id`): permissions come from the token, no call to SaaSReady. */
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @RequirePermission('org.read')
  @Get()
  list(@CurrentUser() user: SaaSReadyUser) {
    return { data: this.projects.list(user.orgId!) };
  }

  @RequirePermission('org.update')
  @Post()
  @HttpCode(201)
  create(@CurrentUser() user: SaaSReadyUser, @Body() body: { name?: unknown } | undefined) {
    const name = body?.name;
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) throw badRequest('name: 1 to 100 characters');
    return this.projects.create(user.orgId!, user.userId, name.trim());
  }

  @RequirePermission('org.delete')
  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentUser() user: SaaSReadyUser, @Param('id') id: string): void {
    if (!this.projects.remove(user.orgId!, id)) throw new SaaSReadyException(404, 'not_found', 'No such project.');
  }
}

/** Routes that name the organization in the path (`:orgId`, the module's `orgParam`). */
@Controller('orgs/:orgId')
export class OrgController {
  constructor(private readonly projects: ProjectsService) {}

  /** Fast: the path's org must be the token's org (else 403), and the token must hold org.read there. */
  @RequirePermission('org.read')
  @Get('projects')
  list(@Param('orgId') orgId: string) {
    return { data: this.projects.list(orgId.toLowerCase()) };
  }

  @RequirePermission('org.read')
  @Get('billing')
  billing(@Param('orgId') orgId: string) {
    return { org_id: orgId, plan: this.projects.plan(orgId.toLowerCase()) };
  }

  /**
   * Sensitive (money): `fresh: true` asks SaaSReady on every call, so a demoted or removed member, or a
   * signed-out session, is refused at once rather than when the access token expires.
   */
  @RequirePermission('org.update', { fresh: true })
  @Put('billing')
  setBilling(@Param('orgId') orgId: string, @Body() body: { plan?: unknown } | undefined) {
    const plan = body?.plan;
    if (typeof plan !== 'string' || !PLANS.includes(plan as Plan)) throw badRequest(`plan: one of ${PLANS.join(', ')}`);
    this.projects.setPlan(orgId.toLowerCase(), plan as Plan);
    return { org_id: orgId, plan };
  }
}
