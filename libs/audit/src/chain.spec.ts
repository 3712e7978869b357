import { canonicalJson, canonicalRow, chainHash, ChainedFields } from './chain';
import { GENESIS_HASH } from './audit.constants';
import { csvCell, csvLine } from './csv';

const row: ChainedFields = {
  id: '01890000-0000-7000-8000-000000000001',
  orgId: null,
  actorId: null,
  userEmail: 'a@example.test',
  action: 'user.logged_in',
  targetType: 'user',
  targetId: null,
  ipAddress: '127.0.0.1',
  userAgent: 'jest',
  metadata: { b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } },
  timestamp: new Date('2025-01-02T03:04:05.678Z'),
};

describe('audit hash chain', () => {
  it('serializes canonically: key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: null }] })).toBe('{"a":[2,{"c":null,"d":1}],"b":1}');
    const reordered = { ...row, metadata: { a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 } };
    expect(chainHash(reordered, GENESIS_HASH)).toBe(chainHash(row, GENESIS_HASH));
  });

  it('writes the row as canonicalJson writes its snake_case object (the text every stored hash covers)', () => {
    const generic = (r: ChainedFields) =>
      canonicalJson({
        id: r.id,
        org_id: r.orgId,
        actor_id: r.actorId,
        user_email: r.userEmail,
        action: r.action,
        target_type: r.targetType,
        target_id: r.targetId,
        ip_address: r.ipAddress,
        user_agent: r.userAgent,
        metadata: r.metadata,
        timestamp: r.timestamp.toISOString(),
      });
    const rows: ChainedFields[] = [
      row,
      { ...row, orgId: '01890000-0000-7000-8000-0000000000aa', actorId: '01890000-0000-7000-8000-0000000000bb', targetId: 'x' },
      { ...row, userEmail: null, ipAddress: null, userAgent: null, metadata: {} },
      {
        ...row,
        userAgent: 'Mozilla "quoted" \\ back\u2028slash é 😀',
        metadata: { z: [null, true, 1.5, 'ü'], a: { y: {}, x: [] }, __proto__x: 1 },
      },
    ];
    for (const r of rows) expect(canonicalRow(r)).toBe(generic(r));
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(canonicalJson(JSON.parse('{"__proto__": {"b": 1, "a": 2}}'))).toBe('{"__proto__":{"a":2,"b":1}}');
  });

  it('changes with any field and with the previous hash', () => {
    const h = chainHash(row, GENESIS_HASH);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash({ ...row, action: 'user.logged_out' }, GENESIS_HASH)).not.toBe(h);
    expect(chainHash({ ...row, metadata: { b: 2, a: row.metadata.a } }, GENESIS_HASH)).not.toBe(h);
    expect(chainHash({ ...row, timestamp: new Date(row.timestamp.getTime() + 1) }, GENESIS_HASH)).not.toBe(h);
    expect(chainHash(row, h)).not.toBe(h);
  });
});

describe('audit CSV cells', () => {
  it('quotes every value, doubles quotes, and defuses formulas', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell('plain')).toBe('"plain"');
    expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
    for (const s of ['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(s)).toBe(`"'${s}"`);
    expect(csvLine(['a', null, 'b'])).toBe('"a",,"b"\r\n');
  });
});
