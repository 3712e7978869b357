import { Controller, DynamicModule, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { KeyService } from '@saasready/auth';
import {
  assertEveryRouteDeclaresAccess,
  Authenticated,
  configureHttp,
  createFastifyAdapter,
  createPino,
  Public,
  Actor,
  CurrentActor,
} from '@saasready/core';
import { FlagsService, RequireFeature } from '@saasready/flags';
import { Permission, RequirePermission } from '@saasready/rbac';
import { ApiModule } from '../../apps/api/src/api.module';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenMember, givenOrg, givenUser, GivenUser } from '../support/factories';

const BOOT_TIMEOUT = 180_000;
const API = '/api/v1';

/** A host application's own routes, gated by flags (what @RequireFeature is for). */
@Controller('host')
class HostReportsController {
  @Authenticated()
  @RequireFeature('beta.reports')
  @Get('reports')
  reports(@CurrentActor() actor: Actor): { org_id: string | null } {
    return { org_id: actor.currentOrgId };
  }

  @RequirePermission(Permission.OrgRead)
  @RequireFeature('beta.reports')
  @Get('orgs/:org_id/reports')
  orgReports(@Param('org_id') orgId: string): { org_id: string } {
    return { org_id: orgId };
  }

  @Public()
  @RequireFeature('beta.status')
  @Get('orgs/:org_id/status')
  status(): { ok: true } {
    return { ok: true };
  }
}

@RequireFeature('beta.suite')
@Controller('host/suite')
class HostSuiteController {
  @Authenticated()
  @RequireFeature('beta.reports')
  @Get()
  both(): { ok: true } {
    return { ok: true };
  }
}

/** The whole API plus the host's controllers, as a host app composes it (FlagsModule is global). */
function hostModule(t: TestApp): DynamicModule {
  @Module({})
  class HostModule {}
  return {
    module: HostModule,
    imports: [ApiModule.forRoot({ config: t.config, clock: t.clock })],
    controllers: [HostReportsController, HostSuiteController],
  };
}

/**
 * @RequireFeature on a host app's routes, over HTTP: the app is the real API module plus two controllers
 * defined here, on the suite's database. Every request goes to that app (its caches are the ones the
 * changes invalidate).
 */
describe('@RequireFeature on a host app route', () => {
  let base: TestApp;
  let host: NestFastifyApplication;
  let h: TestApp;
  let flags: FlagsService;
  let user: GivenUser; // Owner of a personal org (the session's current org) and of orgB
  let orgB: { id: string };
  let outsider: GivenUser;

  beforeAll(async () => {
    base = await createTestApp();
    host = await NestFactory.create<NestFastifyApplication>(
      hostModule(base),
      createFastifyAdapter(base.config, createPino('silent'), false),
      {
        logger: false,
        abortOnError: false,
        bodyParser: false,
      },
    );
    host.setGlobalPrefix('api/v1');
    configureHttp(host);
    assertEveryRouteDeclaresAccess(host);
    await host.init();
    await host.get(KeyService).ensureReady();
    await host.getHttpAdapter().getInstance().ready();
    h = { ...base, app: host, http: () => request(host.getHttpServer()) };
    flags = host.get(FlagsService);
    user = await givenUser(h);
    orgB = await givenOrg(h, user);
    outsider = await givenUser(h);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await host?.close();
    await base?.close();
  });

  it('an undefined flag is off: 404 not_found, as if the route did not exist', async () => {
    const res = await h.http().get(`${API}/host/reports`).set(user.auth);
    expectProblem(res, 404, 'not_found');
    expectProblem(await h.http().get(`${API}/host/orgs/${orgB.id}/reports`).set(user.auth), 404, 'not_found');
  });

  it('the access rule comes first: no token is 401, a non-member 404 org_not_found (no flag state leaks)', async () => {
    await flags.define('beta.reports', { defaultEnabled: true });
    expectProblem(await h.http().get(`${API}/host/reports`), 401, 'token_invalid');
    expectProblem(await h.http().get(`${API}/host/orgs/${orgB.id}/reports`).set(outsider.auth), 404, 'org_not_found');
    // a Viewer has org.read: the flag decides
    const viewer = await givenMember(h, orgB, 'Viewer');
    await h.http().get(`${API}/host/orgs/${orgB.id}/reports`).set(viewer.auth).expect(200, { org_id: orgB.id });
  });

  it('on: the route answers; the next request after a change sees it (the cache is invalidated)', async () => {
    await flags.define('beta.reports', { defaultEnabled: true });
    await h.http().get(`${API}/host/reports`).set(user.auth).expect(200, { org_id: user.orgId });
    await flags.define('beta.reports', { defaultEnabled: false });
    expectProblem(await h.http().get(`${API}/host/reports`).set(user.auth), 404, 'not_found');
    // through the API this time: an org override of the session's org
    await h.http().put(`${API}/orgs/${user.orgId}/feature-flags/beta.reports`).set(user.auth).send({ enabled: true }).expect(200);
    await h.http().get(`${API}/host/reports`).set(user.auth).expect(200);
    await h.http().delete(`${API}/orgs/${user.orgId}/feature-flags/beta.reports`).set(user.auth).expect(204);
    expectProblem(await h.http().get(`${API}/host/reports`).set(user.auth), 404, 'not_found');
  });

  it('the org of the {org_id} path decides, not the session org', async () => {
    await flags.define('beta.reports', { defaultEnabled: false });
    await flags.setOverride(orgB.id, 'beta.reports', true);
    // the session is scoped to the personal org, where the flag is off; the path names B, where it is on
    await h.http().get(`${API}/host/orgs/${orgB.id}/reports`).set(user.auth).expect(200, { org_id: orgB.id });
    expectProblem(await h.http().get(`${API}/host/orgs/${user.orgId}/reports`).set(user.auth), 404, 'not_found');
    expectProblem(await h.http().get(`${API}/host/reports`).set(user.auth), 404, 'not_found');
    await flags.clearOverride(orgB.id, 'beta.reports');
    expectProblem(await h.http().get(`${API}/host/orgs/${orgB.id}/reports`).set(user.auth), 404, 'not_found');
  });

  it('without {org_id}, the session org decides: switching the session to an org where it is on opens the route', async () => {
    await flags.define('beta.reports', { defaultEnabled: false });
    await flags.setOverride(orgB.id, 'beta.reports', true);
    expectProblem(await h.http().get(`${API}/host/reports`).set(user.auth), 404, 'not_found');
    const switched = await h.http().post(`${API}/auth/switch-org`).set(user.auth).send({ org_id: orgB.id }).expect(200);
    const auth = { Authorization: `Bearer ${switched.body.access_token}` };
    await h.http().get(`${API}/host/reports`).set(auth).expect(200, { org_id: orgB.id });
    await h.http().post(`${API}/auth/switch-org`).set(auth).send({ org_id: user.orgId }).expect(200);
    await flags.clearOverride(orgB.id, 'beta.reports');
  });

  it('a public route with {org_id} uses that org', async () => {
    expectProblem(await h.http().get(`${API}/host/orgs/${orgB.id}/status`), 404, 'not_found');
    await flags.setOverride(orgB.id, 'beta.status', true);
    await h.http().get(`${API}/host/orgs/${orgB.id}/status`).expect(200, { ok: true });
    expectProblem(await h.http().get(`${API}/host/orgs/${user.orgId}/status`), 404, 'not_found');
  });

  it('on a controller and a handler, every named flag must be on', async () => {
    await flags.define('beta.reports', { defaultEnabled: true });
    await flags.define('beta.suite', { defaultEnabled: false });
    expectProblem(await h.http().get(`${API}/host/suite`).set(user.auth), 404, 'not_found');
    await flags.define('beta.suite', { defaultEnabled: true });
    await h.http().get(`${API}/host/suite`).set(user.auth).expect(200);
    await flags.define('beta.reports', { defaultEnabled: false });
    expectProblem(await h.http().get(`${API}/host/suite`).set(user.auth), 404, 'not_found');
  });

  it('refuses a bad flag key when the route is declared, not at request time', () => {
    expect(() => RequireFeature('Beta Reports')).toThrow(/not a flag key/);
    expect(() => RequireFeature()).toThrow(/at least one/);
  });
});
