import { AppException } from '@saasready/core';
import { decodeCursor, encodeCursor, toPage } from './pagination';

describe('cursors', () => {
  const id = '01900000-0000-7000-8000-0000000000aa';

  it('round-trips a key for its own list only', () => {
    const c = encodeCursor('orgs', id);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('orgs', c)).toBe(id);
    expect(() => decodeCursor('members', c)).toThrow(AppException);
    expect(decodeCursor('orgs', undefined)).toBeNull();
  });

  it.each(['', 'garbage', 'not base64!', encodeCursor('orgs', 'not-a-uuid'), Buffer.from(`v2:orgs:${id}`).toString('base64url')])(
    'refuses %p with 400',
    (bad) => {
      try {
        decodeCursor('orgs', bad);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(AppException);
        expect((e as AppException).getStatus()).toBe(400);
      }
    },
  );

  it('pages limit + 1 rows: a cursor only when more follow', () => {
    const rows = [1, 2, 3].map((n) => ({ id: `${id.slice(0, -1)}${n}` }));
    expect(
      toPage(
        rows,
        3,
        'x',
        (r) => r.id,
        (r) => r.id,
      ),
    ).toEqual({ data: rows.map((r) => r.id), next_cursor: null });
    const page = toPage(
      rows,
      2,
      'x',
      (r) => r.id,
      (r) => r.id,
    );
    expect(page.data).toHaveLength(2);
    expect(decodeCursor('x', page.next_cursor!)).toBe(rows[1].id);
  });
});
