import { canonicalJson, chainHash, ChainedFields } from './chain';
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
