import { randomBytes } from 'node:crypto';
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
