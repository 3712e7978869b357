import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { AuditService } from '@saasready/audit';
import { DataSource, EntityManager } from 'typeorm';
import { ConnectionDrain, RequestContext, TransactionService } from '@saasready/core';
import { createTestApp, TestApp } from '../support/test-app';
import { expectProblem, givenUser, GivenUser, login } from '../support/factories';

/** Booting an app (the embedded database, migrations) on busy shared cores can take a while. */
const BOOT_TIMEOUT = 180_000;
const NO_RATE_LIMITS = { RATE_LIMIT_LOGIN: '10000/1m', RATE_LIMIT_REGISTER: '10000/1m', RATE_LIMIT_REFRESH: '10000/1m' };
const FIELDS = ['id', 'timestamp', 'actor_id', 'user_email', 'action', 'target_type', 'target_id', 'ip_address', 'user_agent', 'metadata'];
const MEMBER_ROLE = '00000000-0000-7000-8000-000000000003';
const ADMIN_ROLE = '00000000-0000-7000-8000-000000000002';
const DAY = 86_400_000;

interface ListBody {
  data: Record<string, any>[];
  next_cursor: string | null;
}

/** The whole body as a string, whatever the content type (supertest buffers only some). */
function asText(req: Test): Test {
  return req.buffer(true).parse((res, cb) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (data += chunk));
    res.on('end', () => cb(null, data));
  });
}

/** RFC 4180 records (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length) records.push([...record, field]);
  return records;
}

/** (timestamp, id) strictly decreasing. */
function expectNewestFirst(rows: Record<string, any>[]): void {
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    const order = a.timestamp === b.timestamp ? (a.id > b.id ? 1 : -1) : a.timestamp > b.timestamp ? 1 : -1;
    expect(order).toBe(1);
  }
}

describe('audit log: routes, chain, append-only, retention', () => {
  let t: TestApp;
  let audit: AuditService;

  beforeAll(async () => {
    t = await createTestApp({ env: { ...NO_RATE_LIMITS, AUDIT_RETENTION_DAYS: '30' } });
    audit = t.app.get(AuditService);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await t?.close();
  }, BOOT_TIMEOUT);

  const list = (user: GivenUser, orgId: string, query: Record<string, string | number> = {}) =>
    t.http().get(`/api/v1/orgs/${orgId}/audit-logs`).query(query).set(user.auth);

  async function listAll(user: GivenUser, orgId: string, query: Record<string, string | number> = {}): Promise<Record<string, any>[]> {
    const out: Record<string, any>[] = [];
    let cursor: string | null = null;
    do {
      const page: Record<string, string | number> = { ...query, limit: 200 };
      if (cursor) page.cursor = cursor;
      const res: { body: ListBody } = await list(user, orgId, page).expect(200);
      out.push(...(res.body as ListBody).data);
      cursor = res.body.next_cursor;
    } while (cursor);
    return out;
  }

  /** An `org.updated` event of the user's own org, by the user. */
  const orgEvent = (u: GivenUser, metadata: Record<string, unknown>) =>
    ({ action: 'org.updated', targetType: 'org', targetId: u.orgId, orgId: u.orgId, actorId: u.id, metadata }) as const;

  /** Rows written the way services write them (no request context: no ip, no user agent). */
  async function seed(orgId: string | null, n: number, actor: GivenUser, action: any = 'org.updated'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        await audit.record({
          action,
          targetType: 'org',
          targetId: orgId,
          orgId,
          actorId: actor.id,
          userEmail: actor.email,
          metadata: { i },
        }),
      );
    }
    return ids;
  }

  async function addMember(userId: string, orgId: string, roleId: string): Promise<void> {
    await t.sql(`INSERT INTO memberships (id, org_id, user_id, role_id, created_at) VALUES (gen_random_uuid(), $1, $2, $3, now())`, [
      orgId,
      userId,
      roleId,
    ]);
  }

  describe('access (audit.read)', () => {
    it('Owner and Admin read; a Member gets 403; a non-member 404; no token 401', async () => {
      const owner = await givenUser(t);
      const admin = await givenUser(t);
      const member = await givenUser(t);
      const outsider = await givenUser(t);
      await addMember(admin.id, owner.orgId, ADMIN_ROLE);
      await addMember(member.id, owner.orgId, MEMBER_ROLE);
      for (const path of ['audit-logs', 'audit-logs/export', 'audit-logs/verify']) {
        const url = `/api/v1/orgs/${owner.orgId}/${path}`;
        await t.http().get(url).set(owner.auth).expect(200);
        await t.http().get(url).set(admin.auth).expect(200);
        expectProblem(await t.http().get(url).set(member.auth), 403, 'permission_denied');
        expectProblem(await t.http().get(url).set(outsider.auth), 404, 'org_not_found');
        expectProblem(await t.http().get(`/api/v1/orgs/${randomUUID()}/${path}`).set(owner.auth), 404, 'org_not_found');
        expectProblem(await t.http().get(url), 401, 'token_invalid');
      }
    });
  });

  describe('list', () => {
    it('returns exactly the API fields, newest first', async () => {
      const u = await givenUser(t);
      await login(t, u.email);
      const res = await list(u, u.orgId).expect(200);
      const body = res.body as ListBody;
      expect(body.next_cursor).toBeNull();
      expect(body.data.map((r) => r.action)).toEqual(['user.logged_in', 'user.registered']);
      for (const r of body.data) {
        expect(Object.keys(r).sort()).toEqual([...FIELDS].sort());
        expect(r.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(r.actor_id).toBe(u.id);
      }
      expectNewestFirst(body.data);
    });

    it('filters by action, actor_id, since (inclusive) and until (exclusive)', async () => {
      const u = await givenUser(t);
      const other = await givenUser(t);
      t.clock.advance(60_000);
      const t1 = t.clock.nowMs();
      const at = (s: number) => new Date(t1 + s * 1000).toISOString();
      const ids: Record<string, string> = {};
      ids.a = (await seed(u.orgId, 1, u, 'org.updated'))[0];
      t.clock.advance(1000);
      ids.b = (await seed(u.orgId, 1, other, 'role.created'))[0];
      t.clock.advance(1000);
      ids.c = (await seed(u.orgId, 1, other, 'org.updated'))[0];
      t.clock.advance(1000);
      ids.d = (await seed(u.orgId, 1, u, 'flag.updated'))[0];

      const idsOf = async (q: Record<string, string>) => (await list(u, u.orgId, q).expect(200)).body.data.map((r: any) => r.id);
      expect(await idsOf({ action: 'org.updated' })).toEqual([ids.c, ids.a]);
      expect(await idsOf({ actor_id: other.id })).toEqual([ids.c, ids.b]);
      expect(await idsOf({ since: at(1), until: at(3) })).toEqual([ids.c, ids.b]);
      expect(await idsOf({ since: at(3) })).toEqual([ids.d]);
      expect(await idsOf({ since: at(0), until: at(1), action: 'org.updated' })).toEqual([ids.a]);
      expect(await idsOf({ actor_id: other.id, action: 'role.created' })).toEqual([ids.b]);
      expect(await idsOf({ action: 'member.removed' })).toEqual([]);
    });

    it.each([
      [{ limit: 0 }],
      [{ limit: 201 }],
      [{ limit: 'ten' }],
      [{ limit: 1.5 }],
      [{ cursor: 'not-a-cursor' }],
      [{ cursor: Buffer.from('{"t":"2025-01-01T00:00:00.000Z","i":"nope"}').toString('base64url') }],
      [{ since: 'yesterday' }],
      [{ since: '2025-01-01T00:00:00' }],
      [{ until: '2025-13-45T00:00:00Z' }],
      [{ actor_id: 'not-a-uuid' }],
      [{ action: 'DROP TABLE' }],
      [{ unknown: 'x' }],
    ])('refuses %j with 400', async (query) => {
      const u = await givenUser(t);
      expectProblem(await list(u, u.orgId, query as Record<string, string>), 400, 'validation_failed');
    });

    it('pages without gaps or repeats while rows are inserted concurrently', async () => {
      const u = await givenUser(t);
      await seed(u.orgId, 30, u);
      const before = (await t.sql<{ id: string }>(`SELECT id FROM audit_logs WHERE org_id = $1`, [u.orgId])).map((r) => r.id);
      expect(before).toHaveLength(31);

      let inserting = true;
      const inserter = (async () => {
        let n = 0;
        while (inserting && n < 40) {
          t.clock.advance(3);
          await audit.record(orgEvent(u, { late: n++ }));
        }
        return n;
      })();
      const seen: Record<string, any>[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Record<string, string | number> = { limit: 4 };
        if (cursor) page.cursor = cursor;
        const res: { body: ListBody } = await list(u, u.orgId, page).expect(200);
        seen.push(...res.body.data);
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 100);
      inserting = false;
      const inserted = await inserter;
      expect(inserted).toBeGreaterThan(0);

      const ids = seen.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length); // no repeats
      for (const id of before) expect(ids).toContain(id); // no gaps
      expectNewestFirst(seen);
    });
  });

  describe('export', () => {
    let u: GivenUser;
    let total: number;

    beforeAll(async () => {
      u = await givenUser(t);
      await seed(u.orgId, 520, u); // more than one read batch
      // Hostile values, as a client could send them (user agent) or a service could record them.
      await RequestContext.run({ requestId: 'e2e', ip: '192.0.2.10', userAgent: '=HYPERLINK("http://evil.test","click")' }, () =>
        audit.record({
          action: 'flag.updated',
          targetType: 'flag',
          targetId: '+SUM(1,2)',
          orgId: u.orgId,
          actorId: u.id,
          userEmail: '@evil.test',
          metadata: { note: '-2+3', quoted: 'say "hi", then\nleave', password: 'must-not-export' },
        }),
      );
      total = 522; // + user.registered
    }, BOOT_TIMEOUT);

    it('ndjson: one list object a line, every row, newest first', async () => {
      const res = await asText(t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/export`).query({ format: 'ndjson' }).set(u.auth)).expect(
        200,
      );
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-logs-.*\.ndjson"$/);
      const text = res.body as string;
      expect(text.endsWith('\n')).toBe(true);
      const rows = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows).toHaveLength(total);
      for (const r of rows) expect(Object.keys(r)).toEqual(FIELDS);
      expect(new Set(rows.map((r) => r.id)).size).toBe(total);
      expectNewestFirst(rows);
      expect(rows).toEqual(await listAll(u, u.orgId));
      expect(text).not.toContain('must-not-export');
    });

    it('csv: a header row, the list fields in order, metadata as JSON, formulas defused', async () => {
      const res = await asText(t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/export`).query({ format: 'csv' }).set(u.auth)).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const text = res.body as string;
      expect(text.startsWith(`${FIELDS.join(',')}\r\n`)).toBe(true);
      const records = parseCsv(text);
      expect(records[0]).toEqual(FIELDS);
      expect(records).toHaveLength(total + 1);
      for (const r of records) expect(r).toHaveLength(FIELDS.length);

      const hostile = records.find((r) => r[4] === 'flag.updated')!;
      const cell = (name: string) => hostile[FIELDS.indexOf(name)];
      expect(cell('user_agent')).toBe(`'=HYPERLINK("http://evil.test","click")`);
      expect(cell('target_id')).toBe(`'+SUM(1,2)`);
      expect(cell('user_email')).toBe(`'@evil.test`);
      expect(cell('ip_address')).toBe('192.0.2.10');
      expect(JSON.parse(cell('metadata'))).toEqual({ note: '-2+3', quoted: 'say "hi", then\nleave', password: '[redacted]' });
      // No cell of the file starts a formula.
      expect(
        records
          .slice(1)
          .flat()
          .filter((c) => /^[=+\-@\t\r]/.test(c)),
      ).toEqual([]);
      expect(text).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);

      // The other rows: nulls are empty cells, the rest as in the list.
      const [first] = await listAll(u, u.orgId, { action: 'org.updated' });
      const rec = records.find((r) => r[0] === first.id)!;
      expect(rec).toEqual([
        first.id,
        first.timestamp,
        first.actor_id,
        first.user_email,
        'org.updated',
        'org',
        first.target_id,
        '',
        '',
        JSON.stringify(first.metadata),
      ]);
    });

    it('applies the filters, and refuses an unknown format', async () => {
      const res = await asText(
        t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/export`).query({ format: 'ndjson', action: 'flag.updated' }).set(u.auth),
      ).expect(200);
      const rows = (res.body as string)
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.map((r) => r.action)).toEqual(['flag.updated']);
      const empty = await asText(
        t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/export`).query({ format: 'csv', action: 'role.deleted' }).set(u.auth),
      ).expect(200);
      expect(empty.body).toBe(`${FIELDS.join(',')}\r\n`);
      expectProblem(
        await t.http().get(`/api/v1/orgs/${u.orgId}/audit-logs/export`).query({ format: 'xml' }).set(u.auth),
        400,
        'validation_failed',
      );
    });
  });

  describe('append-only', () => {
    it('the database refuses UPDATE, DELETE and TRUNCATE, and the prune path for recent rows', async () => {
      const u = await givenUser(t);
      const [id] = await seed(u.orgId, 1, u);
      const [original] = await t.sql(`SELECT * FROM audit_logs WHERE id = $1`, [id]);
      await expect(t.sql(`UPDATE audit_logs SET action = 'org.deleted' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
      await expect(t.sql(`UPDATE audit_logs SET metadata = '{}' WHERE org_id = $1`, [u.orgId])).rejects.toThrow(/append-only/);
      await expect(t.sql(`DELETE FROM audit_logs WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
      await expect(t.sql(`TRUNCATE audit_logs`)).rejects.toThrow(/append-only/);
      // The retention switch alone does not open recent rows.
      await expect(
        t.sql(`DO $$ BEGIN
                 PERFORM set_config('saasready.audit_prune', 'on', true);
                 PERFORM set_config('saasready.audit_prune_before', '2999-01-01T00:00:00Z', true);
                 DELETE FROM audit_logs WHERE id = '${id}';
               END $$`),
      ).rejects.toThrow(/append-only/);
      const [after] = await t.sql(`SELECT * FROM audit_logs WHERE id = $1`, [id]);
      expect(after).toEqual(original);
    });
  });

  describe('hash chain', () => {
    async function verify(user: GivenUser, orgId: string) {
      return (await t.http().get(`/api/v1/orgs/${orgId}/audit-logs/verify`).set(user.auth).expect(200)).body;
    }

    it('verifies an intact chain and finds an edited row', async () => {
      const u = await givenUser(t);
      const ids = await seed(u.orgId, 5, u);
      expect(await verify(u, u.orgId)).toEqual({ valid: true, checked: 6, first_invalid_id: null });

      await t.sql(`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
      try {
        await t.sql(`UPDATE audit_logs SET metadata = '{"i": 99}' WHERE id = $1`, [ids[2]]);
      } finally {
        await t.sql(`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
      }
      // user.registered, ids[0], ids[1] check out; ids[2] does not.
      expect(await verify(u, u.orgId)).toEqual({ valid: false, checked: 4, first_invalid_id: ids[2] });
    });

    it('finds a row deleted from the middle (at the row after it)', async () => {
      const u = await givenUser(t);
      const ids = await seed(u.orgId, 4, u);
      await t.sql(`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
      try {
        await t.sql(`DELETE FROM audit_logs WHERE id = $1`, [ids[1]]);
      } finally {
        await t.sql(`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
      }
      expect(await verify(u, u.orgId)).toEqual({ valid: false, checked: 3, first_invalid_id: ids[2] });
    });

    it('links each row to the one before, per organization', async () => {
      const u = await givenUser(t);
      const v = await givenUser(t);
      await Promise.all([seed(u.orgId, 6, u), seed(v.orgId, 6, v), seed(u.orgId, 6, u)]);
      const rows = await t.sql<{ prev_hash: string; hash: string }>(
        `SELECT prev_hash, hash FROM audit_logs WHERE org_id = $1 ORDER BY seq`,
        [u.orgId],
      );
      expect(rows).toHaveLength(13);
      expect(rows[0].prev_hash).toBe('0'.repeat(64));
      for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
      expect(await verify(u, u.orgId)).toEqual({ valid: true, checked: 13, first_invalid_id: null });
      expect(await verify(v, v.orgId)).toEqual({ valid: true, checked: 7, first_invalid_id: null });
    });

    it('concurrent audited changes to one organization form one unbroken chain (each row written with its commit)', async () => {
      const u = await givenUser(t);
      const n = 24;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          t
            .http()
            .patch(`/api/v1/orgs/${u.orgId}`)
            .set(u.auth)
            .send({ name: `Concurrent ${i}` }),
        ),
      );
      for (const res of results) expect(res.status).toBe(200);
      const rows = await t.sql<{ prev_hash: string; hash: string; metadata: { name: { new: string } } }>(
        `SELECT prev_hash, hash, metadata FROM audit_logs WHERE org_id = $1 AND action = 'org.updated' ORDER BY seq`,
        [u.orgId],
      );
      expect(rows).toHaveLength(n);
      expect(new Set(rows.map((r) => r.metadata.name.new)).size).toBe(n);
      expect(await verify(u, u.orgId)).toEqual({ valid: true, checked: n + 1, first_invalid_id: null });
    });

    it('concurrent transactions that share nothing but the chain still append one after the other (the chain lock)', async () => {
      const tx = t.app.get(TransactionService);
      const u = await givenUser(t);
      const n = 16;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          tx.run(async (m) => {
            await m.query('SELECT 1');
            await audit.record(orgEvent(u, { i }));
          }),
        ),
      );
      const rows = await t.sql<{ prev_hash: string; hash: string }>(
        `SELECT prev_hash, hash FROM audit_logs WHERE org_id = $1 ORDER BY seq`,
        [u.orgId],
      );
      expect(rows).toHaveLength(n + 1);
      for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
      expect(await verify(u, u.orgId)).toEqual({ valid: true, checked: n + 1, first_invalid_id: null });
    });

    it('several rows of one transaction keep their order in the chain; a failed one takes the others and the change with it', async () => {
      const tx = t.app.get(TransactionService);
      const u = await givenUser(t);
      const row = (i: number) => orgEvent(u, { i });
      await tx.run(async (m) => {
        for (let i = 0; i < 3; i++) await audit.record(row(i));
        await m.query(`UPDATE organizations SET name = 'In one transaction' WHERE id = $1`, [u.orgId]);
      });
      const ordered = await t.sql<{ metadata: { i: number } }>(
        `SELECT metadata FROM audit_logs WHERE org_id = $1 AND action = 'org.updated' ORDER BY seq`,
        [u.orgId],
      );
      expect(ordered.map((r) => r.metadata.i)).toEqual([0, 1, 2]);

      await expect(
        tx.run(async (m) => {
          await audit.record(row(3));
          await audit.record({ ...row(4), action: 'Not An Action' as never });
          await m.query(`UPDATE organizations SET name = 'Rolled back' WHERE id = $1`, [u.orgId]);
        }),
      ).rejects.toThrow(/audit_logs_action_check/);
      const [org] = await t.sql<{ name: string }>(`SELECT name FROM organizations WHERE id = $1`, [u.orgId]);
      expect(org.name).toBe('In one transaction');
      expect(await t.sql(`SELECT 1 FROM audit_logs WHERE org_id = $1 AND metadata->>'i' IN ('3', '4')`, [u.orgId])).toHaveLength(0);
      expect(await verify(u, u.orgId)).toEqual({ valid: true, checked: 4, first_invalid_id: null });
    });

    it.each(['TransactionService.run', 'a DataSource transaction (as verify and prune open)'])(
      'shutdown waits for the transactions in flight (their connections must not go back to the pool open): %s',
      async (kind) => {
        const tx = t.app.get(TransactionService);
        const drain = t.app.get(ConnectionDrain);
        const ds = t.app.get(DataSource);
        const u = await givenUser(t);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let started!: () => void;
        const inside = new Promise<void>((resolve) => (started = resolve));
        const body = async (m: EntityManager) => {
          await m.query(`UPDATE organizations SET name = 'Before shutdown' WHERE id = $1`, [u.orgId]);
          started();
          await gate;
        };
        const work = kind === 'TransactionService.run' ? tx.run(body) : ds.transaction('REPEATABLE READ', body);
        await inside;
        let drained = false;
        const waiting = drain.beforeApplicationShutdown().then(() => (drained = true));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(drained).toBe(false);
        release();
        await work;
        await waiting;
        expect(drained).toBe(true);
        await drain.beforeApplicationShutdown(); // nothing in flight: at once
      },
    );

    it.each([
      ['audit_logs_action_check', { action: `'Org Updated'` }],
      ['audit_logs_user_email_check', { email: `repeat('e', 321)` }],
      ['audit_logs_target_type_check', { targetType: `repeat('t', 33)` }],
      ['audit_logs_target_id_check', { targetId: `repeat('i', 257)` }],
      ['audit_logs_ip_address_check', { ip: `repeat('1', 65)` }],
      ['audit_logs_user_agent_check', { userAgent: `repeat('a', 513)` }],
      ['audit_logs_metadata_check', { metadata: `'[1]'::jsonb` }],
    ])('audit_append refuses a row the table rules out (%s, SQLSTATE 23514) and writes nothing', async (constraint, bad) => {
      const u = await givenUser(t);
      const v = {
        email: 'NULL',
        action: `'org.updated'`,
        targetType: `'org'`,
        targetId: 'NULL',
        ip: 'NULL',
        userAgent: 'NULL',
        metadata: `'{}'::jsonb`,
        ...bad,
      };
      const count = async () => (await t.sql(`SELECT 1 FROM audit_logs WHERE org_id = $1`, [u.orgId])).length;
      const before = await count();
      const error = await t
        .sql(
          `SELECT audit_append(gen_random_uuid(), $1::uuid, NULL, ${v.email}, ${v.action}, ${v.targetType}, ${v.targetId}, ${v.ip}, ${v.userAgent}, ${v.metadata}, now(), '{}')`,
          [u.orgId],
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ code: '23514', constraint });
      expect(await count()).toBe(before);
    });

    it('audit_append refuses to run outside READ COMMITTED (its read of the chain would miss the last commit)', async () => {
      const u = await givenUser(t);
      const ds = t.app.get(DataSource);
      await expect(
        ds.transaction('REPEATABLE READ', (m) =>
          m.query(
            `SELECT audit_append(gen_random_uuid(), $1::uuid, NULL, NULL, 'org.updated', 'org', NULL, NULL, NULL, '{}'::jsonb, now(), '{}')`,
            [u.orgId],
          ),
        ),
      ).rejects.toThrow(/READ COMMITTED/);
    });
  });

  describe('retention', () => {
    it('prunes rows past AUDIT_RETENTION_DAYS from the head of each chain; what stays still verifies', async () => {
      const actor = await givenUser(t);
      const orgId = randomUUID(); // a chain that starts old (no org row needed: rows outlive orgs)
      const now = t.clock.nowMs();
      try {
        t.clock.set(now - 40 * DAY);
        const old = await seed(orgId, 3, actor);
        await seed(null, 2, actor, 'user.logged_in');
        t.clock.set(now);
        const recent = await seed(orgId, 2, actor);
        // An instance whose clock lags writes an old timestamp after recent rows: kept (a chain loses only its head).
        t.clock.set(now - 35 * DAY);
        const lagging = await seed(orgId, 1, actor);
        t.clock.set(now);

        await audit.prune(new Date(now));
        const left = (await t.sql<{ id: string }>(`SELECT id FROM audit_logs WHERE org_id = $1 ORDER BY seq`, [orgId])).map((r) => r.id);
        expect(left).toEqual([...recent, ...lagging]);
        for (const id of old) expect(left).not.toContain(id);
        expect(await audit.verify(orgId)).toEqual({ valid: true, checked: 3, firstInvalidId: null });
        expect((await audit.verify(null)).valid).toBe(true);

        // Outside the prune path, an old row is as protected as any other.
        await expect(t.sql(`DELETE FROM audit_logs WHERE id = $1`, [lagging[0]])).rejects.toThrow(/append-only/);
      } finally {
        t.clock.set(now);
      }
    });
  });

  describe('GET /auth/security-events', () => {
    it("lists the caller's rows (as actor or target), across orgs, newest first, paged", async () => {
      const me = await givenUser(t);
      const other = await givenUser(t);
      await login(t, me.email);
      await t.http().post('/api/v1/auth/login').send({ email: me.email, password: 'not-my-password-at-all' }).expect(401);
      await login(t, other.email);
      // Someone else acting on me in their org, and on themselves.
      const aboutMe = await audit.record({
        action: 'member.removed',
        targetType: 'member',
        targetId: me.id,
        orgId: other.orgId,
        actorId: other.id,
        userEmail: other.email,
      });
      await audit.record({ action: 'org.updated', targetType: 'org', targetId: other.orgId, orgId: other.orgId, actorId: other.id });

      const seen: Record<string, any>[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: ListBody } = await t
          .http()
          .get('/api/v1/auth/security-events')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(me.auth)
          .expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data);
        cursor = res.body.next_cursor;
      } while (cursor);

      expect(seen.map((r) => r.action).sort()).toEqual(['member.removed', 'user.logged_in', 'user.login_failed', 'user.registered']);
      expect(seen.map((r) => r.id)).toContain(aboutMe);
      for (const r of seen) {
        expect(Object.keys(r)).toEqual(FIELDS);
        expect(r.actor_id === me.id || r.target_id === me.id).toBe(true);
      }
      expect(new Set(seen.map((r) => r.id)).size).toBe(seen.length);
      expectNewestFirst(seen);

      const theirs = (await t.http().get('/api/v1/auth/security-events').set(other.auth).expect(200)).body.data;
      expect(theirs.map((r: any) => r.action).sort()).toEqual(['member.removed', 'org.updated', 'user.logged_in', 'user.registered']);
      for (const r of theirs) expect(r.actor_id === other.id || r.target_id === other.id).toBe(true);
    });

    it('needs a token and refuses a bad page request', async () => {
      const me = await givenUser(t);
      expectProblem(await t.http().get('/api/v1/auth/security-events'), 401, 'token_invalid');
      expectProblem(await t.http().get('/api/v1/auth/security-events').query({ limit: 0 }).set(me.auth), 400, 'validation_failed');
      expectProblem(await t.http().get('/api/v1/auth/security-events').query({ cursor: '%%%' }).set(me.auth), 400, 'validation_failed');
    });
  });
});
