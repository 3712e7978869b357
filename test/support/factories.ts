import { randomBytes } from 'node:crypto';
import { newId } from '@saasready/core';
import { BuiltInRole } from '@saasready/rbac';
import { MembershipService } from '@saasready/tenancy';
import type { TestApp } from './test-app';

export interface GivenUser {
  id: string;
  email: string;
  password: string;
  fullName: string;
  accessToken: string;
  refreshToken: string;
  /** The personal organization (Owner). */
  orgId: string;
  auth: { Authorization: string };
}

let seq = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}.${Date.now().toString(36)}${(seq++).toString(36)}${randomBytes(3).toString('hex')}@example.test`;
}

export const GOOD_PASSWORD = 'violet-otter-harbor-42';

/** Registers a user through the API; returns tokens and an Authorization header. */
export async function givenUser(t: TestApp, overrides: { email?: string; password?: string; fullName?: string } = {}): Promise<GivenUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? GOOD_PASSWORD;
  const fullName = overrides.fullName ?? 'Test User';
  const res = await t.http().post('/api/v1/auth/register').send({ email, password, full_name: fullName });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email,
    password,
    fullName,
    accessToken: res.body.access_token,
    refreshToken: res.body.refresh_token,
    orgId: res.body.organization.id,
    auth: { Authorization: `Bearer ${res.body.access_token}` },
  };
}

export async function login(
  t: TestApp,
  email: string,
  password = GOOD_PASSWORD,
): Promise<{ accessToken: string; refreshToken: string; auth: { Authorization: string } }> {
  const res = await t.http().post('/api/v1/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    accessToken: res.body.access_token,
    refreshToken: res.body.refresh_token,
    auth: { Authorization: `Bearer ${res.body.access_token}` },
  };
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** Asserts a problem+json error body. */
export function expectProblem(
  res: { status: number; body: Record<string, unknown>; headers: Record<string, string> },
  status: number,
  code: string,
): void {
  if (res.status !== status || res.body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    request_id: expect.any(String),
  });
}

/** The header and payload of a JWT, decoded without verifying it (assertions only). */
export function decodeJwt(token: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

// ---- organizations and members (tenancy) ----

export type BuiltInRoleName = keyof typeof BuiltInRole;

export interface GivenOrg {
  id: string;
  name: string;
  slug: string;
  owner: GivenUser;
}

/** Creates an organization through the API (POST /orgs) with `owner` as its Owner. */
export async function givenOrg(
  t: TestApp,
  owner: GivenUser,
  body: { name?: string; slug?: string; metadata?: Record<string, unknown> } = {},
): Promise<GivenOrg> {
  const res = await t
    .http()
    .post('/api/v1/orgs')
    .set(owner.auth)
    .send({ name: body.name ?? `Org ${randomBytes(3).toString('hex')}`, ...body });
  if (res.status !== 201) throw new Error(`create org failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, name: res.body.name, slug: res.body.slug, owner };
}

/**
 * A member of `org` with `role` (a built-in role name or a role id): a new user (or `user`), added with
 * a membership row (no invitation flow needed), and the app's membership cache told, as the service would.
 */
export async function givenMember(
  t: TestApp,
  org: { id: string },
  role: BuiltInRoleName | string = 'Member',
  user?: GivenUser,
): Promise<GivenUser & { roleId: string }> {
  const member = user ?? (await givenUser(t));
  const roleId = role in BuiltInRole ? BuiltInRole[role as BuiltInRoleName].id : role;
  await t.sql(`INSERT INTO memberships (id, org_id, user_id, role_id, created_at) VALUES ($1, $2, $3, $4, now())`, [
    newId(),
    org.id,
    member.id,
    roleId,
  ]);
  await t.app.get(MembershipService).invalidate(member.id, org.id);
  return { ...member, roleId };
}
