import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen copy of the built-in roles at this migration (later changes come as new migrations).
const ALL = [
  'org.read',
  'org.update',
  'org.delete',
  'user.read',
  'user.invite',
  'user.manage',
  'role.manage',
  'audit.read',
  'flag.manage',
  'api_key.manage',
];
const BUILT_IN = [
  ['00000000-0000-7000-8000-000000000001', 'Owner', 'Full control, including deleting the organization', ALL],
  [
    '00000000-0000-7000-8000-000000000002',
    'Admin',
    'Manage the organization, its members and roles; cannot delete it',
    ALL.filter((p) => p !== 'org.delete'),
  ],
  ['00000000-0000-7000-8000-000000000003', 'Member', 'Use the organization and see its members', ['org.read', 'user.read']],
  ['00000000-0000-7000-8000-000000000004', 'Viewer', 'Read-only access to the organization', ['org.read']],
] as const;

/** Users, sessions, refresh tokens, signing keys, organizations, roles (built-ins seeded), memberships. */
export class Initial1764403200000 implements MigrationInterface {
  name = 'Initial1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
        password_hash text NOT NULL,
        full_name text NOT NULL,
        email_verified_at timestamptz,
        is_active boolean NOT NULL DEFAULT true,
        last_org_id uuid,
        two_factor_enabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_unique ON users (lower(email))`);

    await q.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX organizations_slug_unique ON organizations (slug)`);

    await q.query(`
      CREATE TABLE roles (
        id uuid PRIMARY KEY,
        org_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        permissions text[] NOT NULL,
        is_system boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CHECK ((org_id IS NULL) = is_system)
      )`);
    await q.query(`CREATE UNIQUE INDEX roles_org_name_unique ON roles (org_id, lower(name)) WHERE org_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX roles_system_name_unique ON roles (lower(name)) WHERE org_id IS NULL`);
    for (const [id, name, description, permissions] of BUILT_IN) {
      await q.query(
        `INSERT INTO roles (id, org_id, name, description, permissions, is_system, created_at, updated_at)
         VALUES ($1, NULL, $2, $3, $4, true, now(), now())`,
        [id, name, description, [...permissions]],
      );
    }

    await q.query(`
      CREATE TABLE memberships (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles(id),
        created_at timestamptz NOT NULL,
        CONSTRAINT memberships_org_user_unique UNIQUE (org_id, user_id)
      )`);
    await q.query(`CREATE INDEX memberships_user_idx ON memberships (user_id, created_at)`);
    await q.query(`CREATE INDEX memberships_role_idx ON memberships (role_id)`);

    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        current_org_id uuid REFERENCES organizations(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ip_address text,
        user_agent text,
        revoked_at timestamptz,
        revoke_reason text
      )`);
    await q.query(`CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        private_key_encrypted text NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        retired_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['signing_keys', 'refresh_tokens', 'sessions', 'memberships', 'roles', 'organizations', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
