/**
 * Generated from openapi.json by `npm run client:generate` (scripts/client-generate.mjs). Do not edit.
 */

/** The operations that take no access token (`security: []`), as "METHOD /path". */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  'POST /api/v1/auth/email/verify',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/register',
  'POST /api/v1/invitations/preview',
]);
